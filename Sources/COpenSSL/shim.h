// The low-level SHA256_* functions are deprecated in OpenSSL 3 in favour of EVP, but they
// hash a short buffer without allocating a context or consulting the providers; Tally hashes
// two short lines per event with them. (EVP stays in use for streaming whole files and for HMAC.)
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

static inline void tally_sha256(const void *data, size_t count, unsigned char *digest) {
    // Not SHA256(): in OpenSSL 3 that goes through EVP_Q_digest, which fetches the algorithm
    // under a lock every time. The SHA256_* functions hash directly.
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, data, count);
    SHA256_Final(digest, &context);
}
