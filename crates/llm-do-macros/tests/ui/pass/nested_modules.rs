//! Tools in nested modules, referenced by path; a worker in a module used from outside.
use llm_do::prelude::*;

mod tools {
    pub mod text {
        use llm_do::prelude::*;

        /// Reverse a text.
        #[tool]
        pub async fn reverse(text: String) -> Result<String> {
            Ok(text.chars().rev().collect())
        }
    }

    use llm_do::prelude::*;

    /// Current depth.
    #[tool]
    pub(crate) async fn depth(ctx: &Ctx) -> Result<u32> {
        let _ = ctx;
        Ok(0)
    }
}

mod workers {
    use llm_do::prelude::*;

    /// Play with text.
    #[worker(prompt = "Play with {text}", tools = [crate::tools::text::reverse, super::tools::depth])]
    pub async fn play(ctx: &Ctx, text: String) -> Result<String>;
}

use workers::play;

fn main() {
    let _ = Runtime::builder().register(play::spec()).register(tools::text::reverse::spec());
    let _ = play;
    let _ = crate::workers::play::spec;
}
