//! Generates the gRPC code with protox (a pure-Rust protobuf compiler): no system `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/basalt/common.proto",
        "proto/basalt/namenode.proto",
        "proto/basalt/datanode.proto",
        "proto/basalt/table.proto",
        "proto/basalt/jobs.proto",
        "proto/basalt/shuffle.proto",
    ];
    let fds = protox::compile(files, ["proto"])?;
    // Block data as `bytes::Bytes`: decoding slices the receive buffer instead of copying, and a datanode
    // forwards a packet down the pipeline without copying its payload.
    tonic_prost_build::configure()
        .bytes(".basalt.WritePacket.data")
        .bytes(".basalt.ReadPacket.data")
        .bytes(".basalt.ShuffleWriteChunk.data")
        .bytes(".basalt.ShuffleChunk.data")
        .compile_fds(fds)?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
