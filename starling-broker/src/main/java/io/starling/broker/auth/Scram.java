package io.starling.broker.auth;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.text.Normalizer;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * SCRAM-SHA-256 primitives (RFC 5802 section 2.2 and 7, RFC 7677) on the JDK only. Stateless and thread-safe:
 * every call gets its own {@link Mac} / {@link MessageDigest} (a provider lookup of about a microsecond).
 */
final class Scram {

    /** Length of SHA-256 output, hence of StoredKey, ServerKey, proofs and signatures. */
    static final int KEY_LENGTH = 32;

    private static final String HMAC = "HmacSHA256";

    private Scram() {
    }

    /** HMAC(key, data) with SHA-256. */
    static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(key, HMAC));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    /** H(data) with SHA-256. */
    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    /** Hi(password, salt, i) of RFC 5802: PBKDF2 with HMAC-SHA-256, one block. Costs {@code iterations} HMACs. */
    static byte[] hi(String preparedPassword, byte[] salt, int iterations) {
        char[] chars = preparedPassword.toCharArray();
        PBEKeySpec spec = new PBEKeySpec(chars, salt, iterations, KEY_LENGTH * 8);
        try {
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("PBKDF2WithHmacSHA256 is not available", e);
        } finally {
            spec.clearPassword();
            Arrays.fill(chars, '\0');
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Strict UTF-8 decoding; {@code null} if the bytes are not well-formed UTF-8. */
    static String decodeUtf8(byte[] data) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(data))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    static String base64(byte[] data) {
        return Base64.getEncoder().encodeToString(data);
    }

    /** Decodes canonical padded base64; {@code null} for anything else (bad characters, padding or trailing bits). */
    static byte[] decodeBase64(String s) {
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            return null;
        }
        return base64(decoded).equals(s) ? decoded : null;
    }

    /**
     * A nonce is printable ASCII except ',' (RFC 5802 section 7), at least one character.
     */
    static boolean isValidNonce(String nonce) {
        if (nonce.isEmpty()) {
            return false;
        }
        for (int i = 0; i < nonce.length(); i++) {
            char c = nonce.charAt(i);
            if (c < 0x21 || c > 0x7e || c == ',') {
                return false;
            }
        }
        return true;
    }

    /**
     * Decodes a {@code saslname} (RFC 5802 section 5.1): "=2C" is ',', "=3D" is '='; {@code null} if the name
     * contains any other '=' or a ','.
     */
    static String decodeSaslName(String saslName) {
        StringBuilder out = new StringBuilder(saslName.length());
        for (int i = 0; i < saslName.length(); i++) {
            char c = saslName.charAt(i);
            if (c == ',') {
                return null;
            }
            if (c != '=') {
                out.append(c);
            } else if (saslName.startsWith("=2C", i)) {
                out.append(',');
                i += 2;
            } else if (saslName.startsWith("=3D", i)) {
                out.append('=');
                i += 2;
            } else {
                return null;
            }
        }
        return out.toString();
    }

    /**
     * The SASLprep (RFC 4013) this implementation applies to user names and passwords; {@code null} if the string
     * is prohibited. Printable ASCII (the common case) is returned unchanged. Otherwise: non-ASCII spaces map to
     * U+0020, the result is NFKC-normalised, and control characters, private-use, unassigned and unpaired
     * surrogate code points are prohibited. Not applied: the "mapped to nothing" table and the bidirectional
     * check, so a store should hold names already in NFKC form.
     */
    static String saslPrep(String s) {
        boolean printableAscii = true;
        for (int i = 0; i < s.length() && printableAscii; i++) {
            char c = s.charAt(i);
            printableAscii = c >= 0x20 && c <= 0x7e;
        }
        if (printableAscii) {
            return s;
        }
        StringBuilder mapped = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (cp > 0x7f && Character.getType(cp) == Character.SPACE_SEPARATOR) {
                mapped.append(' ');
            } else {
                mapped.appendCodePoint(cp);
            }
        }
        String normalized = Normalizer.normalize(mapped, Normalizer.Form.NFKC);
        for (int i = 0; i < normalized.length(); ) {
            int cp = normalized.codePointAt(i);
            i += Character.charCount(cp);
            switch (Character.getType(cp)) {
                case Character.CONTROL:
                case Character.PRIVATE_USE:
                case Character.UNASSIGNED:
                case Character.SURROGATE:
                    return null;
                default:
                    break;
            }
        }
        return normalized;
    }

    /** Constant-time equality (for keys and proofs of equal, public length). */
    static boolean constantTimeEquals(byte[] a, byte[] b) {
        return MessageDigest.isEqual(a, b);
    }
}
