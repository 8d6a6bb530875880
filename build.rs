// embed_migrations! and the i18n macros read files at compile time but cannot
// tell cargo about them; without this, edited migrations or translations would
// not be picked up by an incremental build.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=locales");
    println!("cargo:rerun-if-changed=templates");
}
