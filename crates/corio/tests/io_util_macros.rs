//! `#[corio::main]` / `#[corio::test]` expand to code that compiles and runs, also when corio
//! is imported under the name `tokio`.
use corio as tokio;

#[tokio::test]
async fn plain_test() {
    assert_eq!(async { 2 }.await, 2);
}

#[corio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_test() -> std::io::Result<()> {
    let v: u8 = "7".parse().map_err(|_| std::io::Error::other("parse"))?;
    assert_eq!(v, 7);
    Ok(())
}

#[corio::test(crate = "corio")]
async fn with_crate_path() {}

mod main_like {
    #[corio::main]
    pub async fn main() -> Result<u32, std::num::ParseIntError> {
        let n: u32 = "41".parse()?;
        Ok(n + 1)
    }

    #[corio::main(flavor = "current_thread")]
    pub async fn other() {}
}

#[test]
fn main_runs() {
    assert_eq!(main_like::main(), Ok(42));
    main_like::other();
}
