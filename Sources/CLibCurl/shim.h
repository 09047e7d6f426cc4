#ifndef PROMPTCHECK_CLIBCURL_SHIM_H
#define PROMPTCHECK_CLIBCURL_SHIM_H
// Swift cannot call C variadic functions, so each argument kind of
// curl_easy_setopt / curl_easy_getinfo / curl_multi_setopt gets a typed wrapper.
#include <curl/curl.h>

typedef size_t (*pc_curl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
typedef int (*pc_curl_xferinfo_callback)(void *clientp, curl_off_t dltotal, curl_off_t dlnow,
                                         curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode pc_easy_setopt_long(CURL *h, CURLoption o, long v) {
  return curl_easy_setopt(h, o, v);
}
static inline CURLcode pc_easy_setopt_off(CURL *h, CURLoption o, curl_off_t v) {
  return curl_easy_setopt(h, o, v);
}
static inline CURLcode pc_easy_setopt_ptr(CURL *h, CURLoption o, const void *v) {
  return curl_easy_setopt(h, o, v);
}
static inline CURLcode pc_easy_setopt_string(CURL *h, CURLoption o, const char *v) {
  return curl_easy_setopt(h, o, v);
}
static inline CURLcode pc_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) {
  return curl_easy_setopt(h, o, v);
}
static inline CURLcode pc_easy_setopt_data_callback(CURL *h, CURLoption o, pc_curl_data_callback v) {
  return curl_easy_setopt(h, o, v);
}
static inline CURLcode pc_easy_setopt_xferinfo_callback(CURL *h, pc_curl_xferinfo_callback v) {
  return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, v);
}
static inline CURLcode pc_easy_getinfo_long(CURL *h, CURLINFO i, long *v) {
  return curl_easy_getinfo(h, i, v);
}
static inline CURLcode pc_easy_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) {
  return curl_easy_getinfo(h, i, v);
}
static inline CURLcode pc_easy_getinfo_string(CURL *h, CURLINFO i, char **v) {
  return curl_easy_getinfo(h, i, v);
}
static inline CURLcode pc_easy_getinfo_ptr(CURL *h, CURLINFO i, void **v) {
  return curl_easy_getinfo(h, i, v);
}
/* CURLVERSION_NOW is a macro Swift cannot import. */
static inline const char *pc_curl_version_number(void) {
  curl_version_info_data *d = curl_version_info(CURLVERSION_NOW);
  return d ? d->version : "?";
}
static inline CURLMcode pc_multi_setopt_long(CURLM *m, CURLMoption o, long v) {
  return curl_multi_setopt(m, o, v);
}
#endif
