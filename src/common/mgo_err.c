#include "mgo_err.h"

const char *mgo_strerror(int rc)
{
  switch (rc) {
  case MGO_OK:
    return "success";
#define MGO_ERR_MSG_CASE(name, val, msg)                                                                     \
  case val:                                                                                                  \
    return msg;
    MGO_ERRORS(MGO_ERR_MSG_CASE)
#undef MGO_ERR_MSG_CASE
  default:
    return "unknown error";
  }
}

const char *mgo_errname(int rc)
{
  switch (rc) {
  case MGO_OK:
    return "OK";
#define MGO_ERR_NAME_CASE(name, val, msg)                                                                    \
  case val:                                                                                                  \
    return #name;
    MGO_ERRORS(MGO_ERR_NAME_CASE)
#undef MGO_ERR_NAME_CASE
  default:
    return "EUNKNOWN";
  }
}
