/* The upload stage of a backup: credentials from the cluster's S3 Secret, the object key, LOCK DATA DIRECTORY
 * on the instance that took the snapshot, then the request to that pod's agent. The request carries the
 * credentials; they are wiped from this process's buffers as soon as it is sent and never logged. */
#include "backup_int.h"

#include "backup_names.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "mgo_buf.h"
#include "mgo_err.h"
#include "mgo_log.h"

int op_read_s3_creds(struct op_ctx *ctx, const char *secret, struct op_s3_creds *out)
{
  struct k8s_status st;
  json_t *obj = NULL;
  int rc;

  memset(out, 0, sizeof(*out));
  k8s_status_clear(&st);
  rc = ctx->kube->get(ctx->kube->arg, &K8S_RES_SECRETS, ctx->ns, secret, &obj, &st);
  if (rc == MGO_OK)
    rc = op_secret_value(obj, "accessKeyId", out->access_key, sizeof(out->access_key));
  if (rc == MGO_OK)
    rc = op_secret_value(obj, "secretAccessKey", out->secret_key, sizeof(out->secret_key));
  if (rc == MGO_OK &&
      op_secret_value(obj, "sessionToken", out->session_token, sizeof(out->session_token)) != MGO_OK)
    out->session_token[0] = '\0';
  json_decref(obj);
  if (rc != MGO_OK)
    op_s3_creds_wipe(out);
  return rc;
}

void op_s3_creds_wipe(struct op_s3_creds *c)
{
  OPENSSL_cleanse(c, sizeof(*c));
}

int op_s3_endpoint(const char *endpoint, const char *region, char *dst, size_t dstsz)
{
  if (endpoint != NULL && endpoint[0] != '\0')
    return mgo_strlcpy(dst, endpoint, dstsz);
  return mgo_snprintf(dst, dstsz, "https://s3.%s.amazonaws.com", region);
}

/* One PUT up to S3's 5 GiB limit, multipart (in parts of that size) beyond: the parts are sent one after the
 * other anyway, so multipart would not be faster, and on versitygw its CompleteMultipartUpload copies the
 * whole object once more (bench/results/agent-upload.md). */
#define OP_BACKUP_PART_SIZE ((json_int_t) 5 * 1024 * 1024 * 1024)

/* The agent request; NULL when memory runs out. */
static json_t *upload_request(const struct mgo_cluster_spec *s, const char *file, const char *endpoint,
                              const char *key, const struct op_s3_creds *cr)
{
  json_t *req =
      json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:b}}", "file", file, "s3", "endpoint", endpoint,
                "region", s->backup.s3_region, "bucket", s->backup.s3_bucket, "key", key, "accessKey",
                cr->access_key, "secretKey", cr->secret_key, "forcePathStyle", s->backup.s3_force_path_style);
  if (req != NULL)
    json_object_set_new(req, "partSize", json_integer(OP_BACKUP_PART_SIZE));
  if (req != NULL && cr->session_token[0] != '\0')
    json_object_set_new(json_object_get(req, "s3"), "sessionToken", json_string(cr->session_token));
  return req;
}

/* spec.backup.s3.caSecret: the PEM bundle the agent verifies the endpoint with (its "caPem"). */
static int add_ca(struct op_ctx *ctx, json_t *req, char *err, size_t errsz)
{
  const struct mgo_cluster_spec *s = &ctx->c.spec;
  enum { PEM_MAX = 65536 };
  char *pem;
  struct k8s_status st;
  json_t *secret = NULL;
  int rc;

  if (s->backup.s3_ca_secret[0] == '\0')
    return MGO_OK;
  pem = malloc(PEM_MAX);
  if (pem == NULL)
    return MGO_ENOMEM;
  k8s_status_clear(&st);
  rc = ctx->kube->get(ctx->kube->arg, &K8S_RES_SECRETS, ctx->ns, s->backup.s3_ca_secret, &secret, &st);
  if (rc == MGO_OK)
    rc = op_secret_value(secret, s->backup.s3_ca_key, pem, PEM_MAX);
  json_decref(secret);
  if (rc == MGO_OK)
    rc =
        json_object_set_new(json_object_get(req, "s3"), "caPem", json_string(pem)) == 0 ? MGO_OK : MGO_ENOMEM;
  else
    (void) mgo_snprintf(err, errsz, "cannot read %s from Secret %s: %s", s->backup.s3_ca_key,
                        s->backup.s3_ca_secret, mgo_errname(rc));
  free(pem);
  return rc;
}

/* Sends the request to the pod's agent; *id receives the job. err: the agent's answer on failure. */
static int send_upload(struct op_ctx *ctx, const struct op_conn *c, const char *file, const char *endpoint,
                       const char *key, char *id, size_t idsz, char *err, size_t errsz)
{
  const struct mgo_cluster_spec *s = &ctx->c.spec;
  struct op_s3_creds cr;
  json_t *req;
  int rc = op_read_s3_creds(ctx, s->backup.s3_secret_name, &cr);

  if (rc != MGO_OK) {
    (void) mgo_snprintf(err, errsz, "cannot read accessKeyId and secretAccessKey from Secret %s: %s",
                        s->backup.s3_secret_name, mgo_errname(rc));
    return rc;
  }
  req = upload_request(s, file, endpoint, key, &cr);
  op_s3_creds_wipe(&cr);
  if (req == NULL)
    return MGO_ENOMEM;
  rc = add_ca(ctx, req, err, errsz);
  if (rc != MGO_OK) {
    json_decref(req);
    return rc;
  }
  rc = ctx->agent->upload(ctx->agent->arg, c->ip, ctx->cs->agent_token, req, id, idsz, err, errsz);
  json_decref(req);
  return rc;
}

struct op_result op_backup_start_upload(struct op_ctx *ctx, struct op_backup_run *r)
{
  const struct mgo_cluster_spec *s = &ctx->c.spec;
  const char *pod = op_jstr(r->status, "pod"), *file = op_jstr(r->status, "snapshot");
  struct op_conn *c = op_backup_conn(ctx, pod);
  char key[1024], endpoint[512], id[80] = "", err[256] = "";
  int rc;

  if (ctx->agent == NULL || ctx->cs->agent_token[0] == '\0')
    return op_backup_attempt_failed(ctx, r, "operator", "AgentUnavailable",
                                    "the pods' agent token is not known yet");
  if (backup_s3_key(s->backup.s3_prefix, ctx->ns, ctx->name, r->name, file, key, sizeof(key), NULL, 0) !=
          MGO_OK ||
      op_s3_endpoint(s->backup.s3_endpoint, s->backup.s3_region, endpoint, sizeof(endpoint)) != MGO_OK)
    return op_backup_attempt_failed(ctx, r, "operator", "InvalidKey",
                                    "the object key or endpoint cannot be built");
  if (c == NULL)
    return op_backup_attempt_failed(ctx, r, "memgraph", "Unreachable",
                                    "the instance does not answer over Bolt");
  rc = ctx->mg->lock_data_directory(c->conn, true);
  op_count_bolt(ctx, pod, 1);
  if (rc != MGO_OK)
    return op_backup_attempt_failed(ctx, r, "memgraph", mgo_errname(rc), ctx->mg->error(c->conn));
  rc = send_upload(ctx, c, file, endpoint, key, id, sizeof(id), err, sizeof(err));
  if (rc == MGO_ECONFLICT && id[0] != '\0' && ctx->agent->cancel != NULL) {
    /* an upload a failed attempt left running (its pod stopped answering meanwhile): cancelled, then retried
     */
    char cerr[128] = "";
    int crc = ctx->agent->cancel(ctx->agent->arg, c->ip, ctx->cs->agent_token, id, cerr, sizeof(cerr));
    (void) mgo_snprintf(err, sizeof(err), "the agent still ran upload %s of an earlier attempt: %s", id,
                        crc == MGO_OK ? "cancelled" : cerr);
  }
  if (rc != MGO_OK) {
    (void) ctx->mg->lock_data_directory(c->conn, false);
    return op_backup_attempt_failed(ctx, r, "agent", mgo_errname(rc), err);
  }
  mgo_log(MGO_LOG_INFO, "backup upload started", "cluster", ctx->key, "backup", r->name, "pod", pod, "key",
          key, "upload", id, (char *) NULL);
  if (op_backup_patch(ctx, r,
                      json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:b, s:s}}", "uploadId", id, "message",
                                "uploading to S3", "s3", "bucket", s->backup.s3_bucket, "key", key,
                                "endpoint", endpoint, "region", s->backup.s3_region, "forcePathStyle",
                                s->backup.s3_force_path_style, "secretName", s->backup.s3_secret_name)) !=
      MGO_OK)
    return op_error(MGO_EIO);
  return op_ok();
}
