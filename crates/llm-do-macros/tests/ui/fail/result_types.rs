use llm_do::prelude::*;

// A result is decoded from JSON into an owned value.
#[worker(prompt = "Say hi.")]
async fn greeting(ctx: &Ctx) -> Result<&'static str>;

#[tool]
async fn words(text: String) -> Result<Vec<&'static str>> {
    Ok(text.split(' ').map(|_| "w").collect())
}

// The error type is llm-do's.
#[tool]
async fn double(a: i64) -> std::result::Result<i64, String> {
    Ok(a * 2)
}

#[tool]
async fn read(ctx: &Ctx, path: String) -> std::result::Result<String, std::io::Error> {
    let _ = ctx;
    std::fs::read_to_string(path)
}

// So is that of a `Result<T>` alias: `std::io::Result<T>` is `Result<T, std::io::Error>`.
#[worker(prompt = "Read {path}.")]
async fn read_file(ctx: &Ctx, path: String) -> std::io::Result<String>;

#[tool]
async fn size(path: String) -> std::io::Result<u64> {
    Ok(std::fs::metadata(path)?.len())
}

fn main() {}
