//! An error and its causes on one line: the one rule for showing a library's error (an HTTP
//! client's, a transport's) whose own message leaves out why it happened.

/// `error`'s message followed by its causes (its [`source`](std::error::Error::source)s),
/// `a: b: c`, leaving out a cause whose text the line already holds (many errors repeat their
/// source in their own message) or that is empty.
///
/// ```
/// use std::io;
/// let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "connection refused");
/// let outer = io::Error::other(Wrapped("could not reach the server", refused));
/// assert_eq!(
///     llm_do_core::error::chain(&outer),
///     "could not reach the server: connection refused"
/// );
/// # #[derive(Debug)] struct Wrapped(&'static str, io::Error);
/// # impl std::fmt::Display for Wrapped {
/// #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.0) }
/// # }
/// # impl std::error::Error for Wrapped {
/// #     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> { Some(&self.1) }
/// # }
/// ```
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::chain;
    use std::fmt;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    fn layers(texts: &[&'static str]) -> Layer {
        texts.iter().rev().fold(None, |inner, t| Some(Layer(t, inner.map(Box::new)))).unwrap()
    }

    #[test]
    fn causes_follow_the_message_once_each() {
        assert_eq!(chain(&layers(&["a"])), "a");
        assert_eq!(chain(&layers(&["a", "b", "c"])), "a: b: c");
        // Repeated (already in the line) and empty causes are left out.
        assert_eq!(
            chain(&layers(&["request failed: timed out", "timed out", "", "os"])),
            "request failed: timed out: os"
        );
    }
}
