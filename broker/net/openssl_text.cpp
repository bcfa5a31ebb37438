// OpenSSL diagnostics and certificate fields as text.
#include "openssl_text.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <memory>

namespace tern::net {

namespace {

struct BioDeleter {
    void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};

// What `print` wrote into a memory BIO.
template <typename Print>
std::string print_to_string(Print print) {
    std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
    if (!bio || !print(bio.get())) {
        return "?";
    }
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

}  // namespace

std::string openssl_error_text() {
    // The oldest error is the cause ("no start line"); later ones are the layers that passed it
    // up ("PEM lib").
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) {
        return {};
    }
    const char* reason = ERR_reason_error_string(code);
    const char* library = ERR_lib_error_string(code);
    std::string text = reason != nullptr ? reason : "error " + std::to_string(code);
    if (library != nullptr) {
        text += " (" + std::string(library) + ")";
    }
    return text;
}

std::string x509_name_text(const X509_NAME* name) {
    return print_to_string(
        [name](BIO* bio) { return X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0; });
}

std::string x509_serial_text(const X509* certificate) {
    const ASN1_INTEGER* serial = X509_get0_serialNumber(certificate);
    BIGNUM* number = ASN1_INTEGER_to_BN(serial, nullptr);
    if (number == nullptr) {
        return "?";
    }
    char* hex = BN_bn2hex(number);
    BN_free(number);
    if (hex == nullptr) {
        return "?";
    }
    std::string text(hex);
    OPENSSL_free(hex);
    return text;
}

std::string asn1_time_text(const ASN1_TIME* time) {
    return print_to_string([time](BIO* bio) { return ASN1_TIME_print(bio, time) == 1; });
}

std::optional<std::string> x509_common_name(const X509* certificate) {
    const X509_NAME* subject = X509_get_subject_name(certificate);
    const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (index < 0 || X509_NAME_get_index_by_NID(subject, NID_commonName, index) >= 0) {
        return std::nullopt;  // none, or several: which one would be the user?
    }
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    unsigned char* utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(&utf8, data);
    if (length < 0) {
        return std::nullopt;
    }
    std::string name(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
    OPENSSL_free(utf8);
    if (name.empty() || name.find('\0') != std::string::npos) {
        return std::nullopt;
    }
    return name;
}

}  // namespace tern::net
