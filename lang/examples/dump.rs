fn main() {
    let path = std::env::args().nth(1).unwrap_or_default();
    let src = std::fs::read_to_string(&path).unwrap_or_default();
    match warden_lang::parse(&src, &warden_lang::Limits::default()) {
        Ok(p) => println!("{p:#?}"),
        Err(d) => print!("{}", warden_lang::diag::render(&path, &src, &d, false)),
    }
}
