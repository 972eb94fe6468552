//! `/opt/resource/in DEST` of the Concourse resource type.
fn main() {
    std::process::exit(sigtag::resource::in_main());
}
