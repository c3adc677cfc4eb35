//! Everything a typical program needs: `use llm_do::prelude::*;`.
//!
//! ```
//! use llm_do::prelude::*;
//! let rt: Runtime = Runtime::builder().with_default_providers().build();
//! let _ctx: Ctx = rt.ctx();
//! ```

pub use crate::setup::RuntimeBuilderExt;
pub use crate::{Attachment, Conversation, Ctx, Error, Result, Runtime, tool, worker};
pub use schemars::JsonSchema;
pub use serde::{Deserialize, Serialize};
pub use serde_json::json;
