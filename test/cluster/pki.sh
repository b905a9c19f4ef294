#!/usr/bin/env bash
# Generate the control plane's PKI into DIR: ca.{crt,key} (our own CA), apiserver.{crt,key} (serving cert signed
# by the CA, SANs 127.0.0.1, localhost and the in-cluster names), sa.key (service-account token signing key).
set -euo pipefail
P=${1:?usage: pki.sh DIR}
mkdir -p "$P"
cd "$P"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=mgo-local-ca" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver"
cat >apiserver.ext <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
EXT
openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 3650 \
  -extfile apiserver.ext
openssl genrsa -out sa.key 2048
chmod 600 ./*.key
