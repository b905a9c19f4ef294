#!/usr/bin/env bash
# Generate the control plane's PKI into DIR: ca.{crt,key} (our own CA), apiserver.{crt,key} (serving cert signed
# by the CA, SANs 127.0.0.1, localhost and the in-cluster names), kubelet.{crt,key} (the test kubelet's log
# endpoint), sa.key (service-account token signing key, ES256).
# Env PKI_EXTRA_IPS: more IP SANs for the apiserver (the node address pods reach it at, in the netns pod network).
set -euo pipefail
P=${1:?usage: pki.sh DIR}
mkdir -p "$P"
cd "$P"
# ECDSA P-256 keys: generated in milliseconds (RSA-2048 costs ~0.2 s each on this class of machine).
EC=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1)
openssl req -x509 "${EC[@]}" -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=mgo-local-ca" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl req "${EC[@]}" -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver"
cat >apiserver.ext <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,${PKI_EXTRA_IPS:+IP:$PKI_EXTRA_IPS,}DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
EXT
openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 3650 \
  -extfile apiserver.ext
# The test kubelet's serving cert (kubectl logs goes apiserver -> kubelet over TLS verified with this CA).
openssl req "${EC[@]}" -nodes -keyout kubelet.key -out kubelet.csr -subj "/CN=mgo-node"
cat >kubelet.ext <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:mgo-node
EXT
openssl x509 -req -in kubelet.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out kubelet.crt -days 3650 \
  -extfile kubelet.ext
openssl ecparam -name prime256v1 -genkey -noout -out sa.key
chmod 600 ./*.key
