/**
 * git's words for a refused server certificate, from libcurl built with GnuTLS (Debian's git,
 * the agent image's) or with OpenSSL. GnuTLS says only "server certificate verification
 * failed" for an unknown CA, a self-signed and an expired certificate alike.
 */
export const TLS_FAILURE =
  /SSL certificate problem|server certificate verification failed|certificate subject name|no alternative certificate subject name|certificate (has expired|is not yet valid)|unable to get local issuer certificate|self[- ]signed certificate|Problem with the SSL CA cert|error setting certificate verify locations|error reading ca cert file|unexpected TLS packet|wrong version number/i;

const HOST_NAME =
  /no alternative certificate subject name|certificate subject name .* does not match|does not match target host name/i;
const DATES = /certificate (has expired|is not yet valid)|certificate expired/i;
const CA_FILE =
  /Problem with the SSL CA cert|error setting certificate verify locations|error reading ca cert file/i;
const NOT_TLS = /unexpected TLS packet|wrong version number/i;

/**
 * What a user should do about a refused certificate, naming the setting to change; git's
 * text follows it for the details (the CA file git used, the host name it checked).
 */
export function describeTlsFailure(
  stderr: string,
  url: string,
  caFile: string | undefined,
): string {
  let host = url;
  try {
    host = new URL(url).hostname;
  } catch {
    // not a URL: name it as given
  }
  if (CA_FILE.test(stderr)) {
    return `cannot read the CA file ${caFile ?? '(none set)'} named by OTA_GIT_CA_FILE: check that it is mounted into the agent's container and readable`;
  }
  if (HOST_NAME.test(stderr)) {
    return `the server's certificate is not for the host in OTA_REPO_URL (${host}): use the host name the certificate was issued for in OTA_REPO_URL, or have a certificate issued for ${host}`;
  }
  if (DATES.test(stderr)) {
    return `the server's certificate has expired or is not valid yet: have it renewed, and check the device's clock (a Pi without a real-time clock needs NTP to be right)`;
  }
  if (NOT_TLS.test(stderr)) {
    return `the server does not speak TLS on this port: check the scheme and port in OTA_REPO_URL (${url})`;
  }
  const expired = "; or it has expired (check the device's clock)";
  return caFile
    ? `the server's certificate is not signed by the CA in OTA_GIT_CA_FILE (${caFile})${expired}: set OTA_GIT_CA_FILE to the CA certificate that signed the server's certificate`
    : `the server's certificate is not signed by a CA the agent trusts${expired}: for a private CA, set OTA_GIT_CA_FILE to the CA certificate that signed the server's certificate`;
}
