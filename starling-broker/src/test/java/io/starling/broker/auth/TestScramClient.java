package io.starling.broker.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * An independent client side of SCRAM-SHA-256 (RFC 5802 section 3 and 5) for the tests: it shares no code with
 * the server and computes Hi() with a plain HMAC loop instead of the JDK's PBKDF2.
 */
final class TestScramClient {

    private final String gs2Header;
    private final String user;
    private final String password;
    private final String clientNonce;
    private String clientFirstBare;
    private String authMessage;
    private byte[] saltedPassword;

    TestScramClient(String user, String password) {
        this("n,,", user, password, randomNonce());
    }

    TestScramClient(String gs2Header, String user, String password, String clientNonce) {
        this.gs2Header = gs2Header;
        this.user = user;
        this.password = password;
        this.clientNonce = clientNonce;
    }

    static String randomNonce() {
        byte[] b = new byte[18];
        new SecureRandom().nextBytes(b);
        return Base64.getEncoder().encodeToString(b);
    }

    /** saslname of RFC 5802 section 5.1. */
    static String escape(String name) {
        return name.replace("=", "=3D").replace(",", "=2C");
    }

    String clientFirst() {
        clientFirstBare = "n=" + escape(user) + ",r=" + clientNonce;
        return gs2Header + clientFirstBare;
    }

    /** The client-final-message answering this server-first-message. */
    String clientFinal(String serverFirst) {
        String combinedNonce = attr(serverFirst, "r");
        if (!combinedNonce.startsWith(clientNonce) || combinedNonce.length() == clientNonce.length()) {
            throw new AssertionError("server nonce does not extend the client nonce: " + serverFirst);
        }
        byte[] salt = Base64.getDecoder().decode(attr(serverFirst, "s"));
        int iterations = Integer.parseInt(attr(serverFirst, "i"));
        saltedPassword = hi(password.getBytes(StandardCharsets.UTF_8), salt, iterations);
        String withoutProof = "c=" + Base64.getEncoder().encodeToString(gs2Header.getBytes(StandardCharsets.UTF_8))
                + ",r=" + combinedNonce;
        authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
        byte[] clientKey = hmac(saltedPassword, "Client Key".getBytes(StandardCharsets.UTF_8));
        byte[] storedKey = sha256(clientKey);
        byte[] clientSignature = hmac(storedKey, authMessage.getBytes(StandardCharsets.UTF_8));
        byte[] proof = new byte[clientKey.length];
        for (int i = 0; i < proof.length; i++) {
            proof[i] = (byte) (clientKey[i] ^ clientSignature[i]);
        }
        return withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof);
    }

    /** The server-final-message a genuine server sends after {@link #clientFinal}. */
    String expectedServerFinal() {
        byte[] serverKey = hmac(saltedPassword, "Server Key".getBytes(StandardCharsets.UTF_8));
        return "v=" + Base64.getEncoder().encodeToString(hmac(serverKey, authMessage.getBytes(StandardCharsets.UTF_8)));
    }

    static String attr(String message, String name) {
        for (String part : message.split(",")) {
            if (part.startsWith(name + "=")) {
                return part.substring(name.length() + 1);
            }
        }
        throw new AssertionError("no " + name + " in " + message);
    }

    /** Hi(str, salt, i) = U1 XOR U2 XOR ... Ui, U1 = HMAC(str, salt + INT(1)), Uk = HMAC(str, Uk-1). */
    static byte[] hi(byte[] str, byte[] salt, int iterations) {
        byte[] first = new byte[salt.length + 4];
        System.arraycopy(salt, 0, first, 0, salt.length);
        first[first.length - 1] = 1;
        byte[] u = hmac(str, first);
        byte[] result = u.clone();
        for (int k = 2; k <= iterations; k++) {
            u = hmac(str, u);
            for (int j = 0; j < result.length; j++) {
                result[j] ^= u[j];
            }
        }
        return result;
    }

    static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }
}
