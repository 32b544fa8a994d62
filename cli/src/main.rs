//! The `simdpool` command. (Bench branch: a minimal dispatcher so `simdpool bench` runs; the CLI
//! branch owns this file and only needs `mod bench;` and a `"bench" => bench::run(&args[2..])` arm.)

mod bench;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str) {
        Some("bench") => bench::run(&args[2..]),
        _ => Err("usage: simdpool bench [--help]".to_string()),
    };
    if let Err(e) = result {
        eprintln!("simdpool: {e}");
        std::process::exit(1);
    }
}
