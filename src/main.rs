fn main() {
    // Started as /opt/resource/{check,in,out} (links to this binary)?
    if let Some(code) = sigtag::resource::main_by_name() {
        std::process::exit(code);
    }
    std::process::exit(sigtag::cli::main());
}
