package io.starling.it.v5;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The client side of one SCRAM-SHA-256 exchange (RFC 5802, RFC 7677), written for these tests from the RFCs and
 * independent of the broker's implementation: no channel binding (gs2 header {@code n,,}), ASCII user names only
 * (no SASLprep needed; ',' and '=' are escaped as the RFC says).
 *
 * <pre>
 * client-first  n,,n=user,r=cnonce
 * server-first  r=cnonce+snonce,s=salt,i=iterations
 * client-final  c=biws,r=cnonce+snonce,p=ClientProof
 * server-final  v=ServerSignature
 * </pre>
 *
 * <p>Not thread-safe; one instance per exchange.
 */
final class ScramClient {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final String user;
    private final String password;
    private final String clientNonce;
    private String clientFirstBare;
    private byte[] expectedServerSignature;

    ScramClient(String user, String password) {
        this.user = user;
        this.password = password;
        byte[] n = new byte[18];
        RANDOM.nextBytes(n);
        this.clientNonce = Base64.getEncoder().encodeToString(n);
    }

    /** The client-first-message: {@code n,,n=user,r=cnonce}. */
    byte[] clientFirst() {
        clientFirstBare = "n=" + user.replace("=", "=3D").replace(",", "=2C") + ",r=" + clientNonce;
        return ("n,," + clientFirstBare).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The client-final-message for this server-first-message; fails the test if the server-first-message is not
     * well-formed or its nonce does not start with the client nonce (RFC 5802 5.1).
     */
    byte[] clientFinal(byte[] serverFirstBytes) {
        String serverFirst = new String(serverFirstBytes, StandardCharsets.UTF_8);
        String[] attrs = serverFirst.split(",");
        if (attrs.length < 3 || !attrs[0].startsWith("r=") || !attrs[1].startsWith("s=") || !attrs[2].startsWith("i=")) {
            throw new AssertionError("malformed server-first-message: " + serverFirst);
        }
        String nonce = attrs[0].substring(2);
        if (!nonce.startsWith(clientNonce) || nonce.length() == clientNonce.length()) {
            throw new AssertionError("server nonce does not extend the client nonce: " + serverFirst);
        }
        byte[] salt = Base64.getDecoder().decode(attrs[1].substring(2));
        int iterations = Integer.parseInt(attrs[2].substring(2));
        if (iterations < 4096) {
            throw new AssertionError("iteration count below RFC 7677's minimum of 4096: " + serverFirst);
        }
        String withoutProof = "c=" + Base64.getEncoder().encodeToString("n,,".getBytes(StandardCharsets.US_ASCII))
                + ",r=" + nonce;
        byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + withoutProof).getBytes(StandardCharsets.UTF_8);

        byte[] saltedPassword = pbkdf2(password, salt, iterations);
        byte[] clientKey = hmac(saltedPassword, "Client Key".getBytes(StandardCharsets.US_ASCII));
        byte[] storedKey = sha256(clientKey);
        byte[] clientSignature = hmac(storedKey, authMessage);
        byte[] proof = new byte[clientKey.length];
        for (int i = 0; i < proof.length; i++) {
            proof[i] = (byte) (clientKey[i] ^ clientSignature[i]);
        }
        byte[] serverKey = hmac(saltedPassword, "Server Key".getBytes(StandardCharsets.US_ASCII));
        expectedServerSignature = hmac(serverKey, authMessage);
        return (withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof)).getBytes(StandardCharsets.UTF_8);
    }

    /** Fails the test unless {@code serverFinal} is {@code v=ServerSignature} with the signature this client expects. */
    void verifyServerFinal(byte[] serverFinal) {
        if (expectedServerSignature == null) {
            throw new IllegalStateException("clientFinal first");
        }
        String expected = "v=" + Base64.getEncoder().encodeToString(expectedServerSignature);
        String actual = serverFinal == null ? null : new String(serverFinal, StandardCharsets.UTF_8);
        if (!expected.equals(actual)) {
            throw new AssertionError("server-final-message: expected " + expected + ", got " + actual);
        }
    }

    private static byte[] pbkdf2(String password, byte[] salt, int iterations) {
        try {
            PBEKeySpec spec = new PBEKeySpec(password.toCharArray(), salt, iterations, 256);
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
