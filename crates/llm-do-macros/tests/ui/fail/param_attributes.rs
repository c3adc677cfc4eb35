use llm_do::prelude::*;

// A parameter takes doc comments and lint levels only: the macro's error is the only one
// (the stand-in it emits drops the refused attribute, which rustc would reject again).
#[tool]
async fn rename(#[serde(rename = "y")] x: u8, #[allow(unused_mut)] mut z: u8) -> Result<u8> {
    z += x;
    Ok(z)
}

#[worker(prompt = "Go {x}.")]
async fn go(ctx: &Ctx, #[inline] x: u8) -> Result<u8>;

fn main() {
    let _ = (rename::spec(), go::spec());
}
