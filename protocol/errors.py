"""The protocol's exception tree: every error a caller of protocol/ can catch.

One root (ProtocolError) so a caller can fail closed on anything; one subclass per cause so a
verdict can name it. Each message says what is wrong and, where someone can act, what to do.
"""


class ProtocolError(Exception):
    """Root of every error raised by protocol/."""


class FieldError(ProtocolError, ValueError):
    """A value in a document, code or config is malformed; ``field`` names where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class CanonicalError(ProtocolError, ValueError):
    """A value cannot be put into canonical JSON (a float, a bool, null, a huge integer...)."""


class VerificationError(ProtocolError):
    """Root of every reason a signed result is not accepted."""


class MalformedEnvelopeError(VerificationError):
    """The bytes are not a DSSE envelope of the expected shape."""


class WrongPayloadTypeError(VerificationError):
    """The envelope carries a payload type other than a TPS result."""


class UnknownKeyError(VerificationError):
    """No trusted key matches the envelope's signature key id."""


class BadSignatureError(VerificationError):
    """The signature does not verify over the envelope's PAE bytes."""


class DocumentParseError(VerificationError):
    """The signature holds but the payload is not a valid result document."""


class CertificateError(VerificationError):
    """Root of the reasons a kit certificate is not trusted."""


class UntrustedIssuerError(CertificateError):
    """The certificate was not issued by the region's CA (another CA, or a forged one)."""


class CertificateExpiredError(CertificateError):
    """The certificate (or its CA) is outside its validity window."""


class RevokedError(CertificateError):
    """The kit's certificate is on the region's revocation list."""


class CertificateProfileError(CertificateError):
    """The certificate does not follow the kit profile (missing binding, wrong key usage...)."""


class BindingError(VerificationError):
    """The document names another TPS, election or kit than the certificate binds."""
