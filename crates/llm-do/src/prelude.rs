//! Everything a typical program needs: `use llm_do::prelude::*;`.
//!
//! ```
//! use llm_do::prelude::*;
//!
//! /// Shouts the text back.
//! #[tool]
//! async fn shout(text: String) -> Result<String> {
//!     Ok(text.to_uppercase())
//! }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<()> {
//! let rt: Runtime = Runtime::builder().with_default_providers().register(shout::spec()).build();
//! let ctx: Ctx = rt.ctx();
//! assert_eq!(ctx.call::<String>("shout", json!({"text": "hi"})).await?, "HI");
//! # Ok(())
//! # }
//! ```

pub use crate::setup::RuntimeBuilderExt;
pub use crate::{Attachment, Conversation, Ctx, Error, Result, Runtime, tool, worker};
pub use schemars::JsonSchema;
pub use serde::{Deserialize, Serialize};
pub use serde_json::json;
