//! `/opt/resource/check` of the Concourse resource type.
fn main() {
    std::process::exit(sigtag::resource::check_main());
}
