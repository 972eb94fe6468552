fn main() {
    std::process::exit(sigtag::cli::main());
}
