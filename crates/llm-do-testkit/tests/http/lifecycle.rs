//! Starting and stopping: shutdown waits for the server even with idle keep-alive
//! connections, and dropping the handle stops it too.

use crate::support::{ask, chat, client, within};
use llm_do_testkit::{TestServer, TestkitError};
use std::future::Future;
use std::net::SocketAddr;

/// Whether something still accepts connections on `addr`, checked until it does not (at most
/// `tries` times, yielding in between so that the server task can run).
async fn stops_listening(addr: SocketAddr, tries: usize) -> bool {
    for _ in 0..tries {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test]
async fn shutdown_finishes_with_idle_keep_alive_connections() {
    within(async {
        let server = TestServer::start().await.expect("starts");
        let addr = server.addr();
        let client = client();
        let response = client
            .post(format!("{}/chat/completions", server.base_url()))
            .json(&ask("x"))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 200);
        response.bytes().await.expect("body");
        server.shutdown().await.expect("stops cleanly");
        assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "nothing listens any more");
        drop(client);
    })
    .await;
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    within(async {
        let server = TestServer::start().await.expect("starts");
        let addr = server.addr();
        chat(&server, &ask("x")).await;
        drop(server);
        assert!(stops_listening(addr, 500).await);
    })
    .await;
}

#[tokio::test]
async fn a_taken_port_is_a_bind_error() {
    within(async {
        let first = TestServer::start().await.expect("starts");
        let err = TestServer::builder()
            .port(first.addr().port())
            .start()
            .await
            .expect_err("the port is taken");
        assert!(matches!(err, TestkitError::Bind { .. }), "{err}");
        assert!(
            err.to_string().starts_with(&format!("could not listen on {}", first.addr())),
            "{err}"
        );
    })
    .await;
}

#[test]
fn starting_outside_a_runtime_is_an_error() {
    // Polled once by hand: the check comes before anything that would need a runtime.
    let mut start = std::pin::pin!(TestServer::start());
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match start.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(Err(err)) => {
            assert!(matches!(err, TestkitError::NoRuntime), "{err}")
        }
        other => panic!("expected an error at once, got {other:?}"),
    }
}

#[tokio::test]
async fn shutdown_does_not_wait_for_a_delay_whose_client_gave_up() {
    within(async {
        let server = TestServer::start().await.expect("starts");
        server.push_fault(llm_do_testkit::Fault::Delay(std::time::Duration::from_secs(3600)));
        let gave_up = llm_do_openai::http::client_builder()
            .timeout(std::time::Duration::from_millis(200))
            .build()
            .expect("client")
            .post(format!("{}/chat/completions", server.base_url()))
            .json(&ask("x"))
            .send()
            .await;
        assert!(gave_up.is_err_and(|e| e.is_timeout()));
        server.shutdown().await.expect("stops without waiting an hour");
    })
    .await;
}
