// OpenSSL diagnostics and certificate fields as text, for logs and start-up errors.
#pragma once

#include <optional>
#include <string>

struct X509_name_st;
struct x509_st;
struct asn1_string_st;

namespace tern::net {

// The oldest error queued on this thread by OpenSSL as "reason (library)", e.g. "no start line
// (PEM routines)"; empty when nothing is queued. Clears the queue.
std::string openssl_error_text();

// "CN=localhost,O=Example" (RFC 2253 order and escaping).
std::string x509_name_text(const X509_name_st* name);
// The serial number in hexadecimal, as `openssl x509 -serial` prints it ("1A2B").
std::string x509_serial_text(const x509_st* certificate);
// "Jan  1 00:00:00 2030 GMT".
std::string asn1_time_text(const asn1_string_st* time);
// The subject's common name as UTF-8; null when there is none, or when it holds a NUL byte
// (which could smuggle another name past comparisons).
std::optional<std::string> x509_common_name(const x509_st* certificate);

}  // namespace tern::net
