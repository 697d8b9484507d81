// SPDX-License-Identifier: MIT OR Apache-2.0
//! Build script: generates `include/ipcx.h` with cbindgen and sets the SONAME of the cdylib.
//!
//! The header is committed. It is rewritten only when its content changes, so an up-to-date
//! tree stays clean; `.ci/run` rebuilds and fails on `git diff --exit-code include/ipcx.h`.

use std::{env, fs, path::PathBuf};

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let major = env::var("CARGO_PKG_VERSION_MAJOR").expect("version");

    // The shared library is libipcx.so.<major>; CMake installs the file as
    // libipcx.so.<version> with the usual two links.
    // The SONAME changes whenever the ABI may break: with every minor release while the major
    // is 0 (libipcx.so.0.2), with every major release from 1.0 on (libipcx.so.1), so that a
    // program built against one ABI never loads a library of another.
    let minor = env::var("CARGO_PKG_VERSION_MINOR").expect("version");
    let soname = if major == "0" {
        format!("libipcx.so.0.{minor}")
    } else {
        format!("libipcx.so.{major}")
    };
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");

    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml must parse");
    // Version macros come from Cargo.toml so there is one place to bump.
    let v = |k: &str| env::var(k).expect("CARGO_PKG_VERSION_*");
    let version_macros = format!(
        "#define IPCX_VERSION_MAJOR {}\n#define IPCX_VERSION_MINOR {}\n\
         #define IPCX_VERSION_PATCH {}\n#define IPCX_VERSION_STRING \"{}\"\n",
        v("CARGO_PKG_VERSION_MAJOR"),
        v("CARGO_PKG_VERSION_MINOR"),
        v("CARGO_PKG_VERSION_PATCH"),
        v("CARGO_PKG_VERSION"),
    );
    config.after_includes = Some(config.after_includes.unwrap_or_default() + &version_macros);
    let header = match cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
    {
        Ok(bindings) => {
            let mut out = Vec::new();
            bindings.write(&mut out);
            out
        }
        Err(e) => panic!("cbindgen failed to generate include/ipcx.h: {e}"),
    };
    let path = crate_dir.join("include").join("ipcx.h");
    if fs::read(&path).ok().as_deref() != Some(header.as_slice()) {
        if let Err(e) = fs::write(&path, &header) {
            println!("cargo:warning=could not write {}: {e}", path.display());
        }
    }
}
