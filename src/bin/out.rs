//! `/opt/resource/out SOURCES` of the Concourse resource type.
fn main() {
    std::process::exit(sigtag::resource::out_main());
}
