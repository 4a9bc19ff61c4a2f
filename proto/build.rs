//! Generates the gRPC code with protox (a pure-Rust protobuf compiler): no system `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/basalt/common.proto",
        "proto/basalt/namenode.proto",
        "proto/basalt/datanode.proto",
    ];
    let fds = protox::compile(files, ["proto"])?;
    tonic_prost_build::configure().compile_fds(fds)?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
