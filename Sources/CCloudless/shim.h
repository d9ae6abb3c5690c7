#ifndef CLOUDLESS_CSYSTEM_SHIM_H
#define CLOUDLESS_CSYSTEM_SHIM_H
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <zlib.h>
#endif
