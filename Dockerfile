# The memgraph-operator image: the operator (`memgraph-operator run`) and the agent its Memgraph pods run
# (`memgraph-operator agent ...`, found on PATH). Build: docker build -t memgraph-operator:0.1.0 .
#
# Two stages on Debian 12 (bookworm), the distribution the project builds and tests on:
#   build    the -dev packages of scripts/apt-packages.txt the binary needs, then the Release build (-O2)
#   runtime  bookworm-slim with only the shared-library packages the Release binary loads (ldd), plus the CA
#            bundle; user 65532 (non-root). test/integration/image/test_image.py checks both package lists
#            against the binary that `cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DMGO_TESTS=OFF`
#            produces: a change in what the binary links fails that test until this file follows.

FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential \
      cmake \
      pkg-config \
      libcurl4-openssl-dev \
      libjansson-dev \
      libmicrohttpd-dev \
      libssl-dev \
      libyaml-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY src ./src
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DMGO_TESTS=OFF \
 && cmake --build /build -j"$(nproc)" --target memgraph-operator \
 && strip /build/src/cmd/memgraph-operator \
 && /build/src/cmd/memgraph-operator version

FROM debian:bookworm-slim AS runtime
# libc6 is not listed: it is part of every Debian image (the base's own programs need it) and must stay the
# base's version. ca-certificates is no library: libcurl verifies S3 endpoints against its bundle when no CA
# file is configured (src/s3/s3_req.c).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      libbrotli1 \
      libcom-err2 \
      libcurl4 \
      libffi8 \
      libgmp10 \
      libgnutls30 \
      libgssapi-krb5-2 \
      libhogweed6 \
      libidn2-0 \
      libjansson4 \
      libk5crypto3 \
      libkeyutils1 \
      libkrb5-3 \
      libkrb5support0 \
      libldap-2.5-0 \
      libmicrohttpd12 \
      libnettle8 \
      libnghttp2-14 \
      libp11-kit0 \
      libpsl5 \
      librtmp1 \
      libsasl2-2 \
      libssh2-1 \
      libssl3 \
      libtasn1-6 \
      libunistring2 \
      libyaml-0-2 \
      libzstd1 \
      zlib1g \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/src/cmd/memgraph-operator /usr/local/bin/memgraph-operator
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/memgraph-operator"]
CMD ["run"]
