package io.starling.cluster.membership;

import io.starling.broker.config.ClusterConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's shared secret and what membership derives from it. Hazelcast Community Edition has no member
 * authentication: a member is admitted when its join request carries the same cluster name. So the cluster name is
 * derived from the secret ({@code HMAC-SHA256(secret, "starling cluster name v1")}): a process that does not hold the
 * secret cannot name the cluster, and its join is refused. What this does and does not protect against is written
 * down in docs/cluster.md.
 */
public final class ClusterSecret {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterSecret.class);
    /** The fewest bytes a secret may have. */
    public static final int MIN_BYTES = 16;
    private static final byte[] NAME_LABEL = "starling cluster name v1".getBytes(StandardCharsets.US_ASCII);

    private final byte[] secret;

    private ClusterSecret(byte[] secret) {
        this.secret = secret;
    }

    /**
     * The secret of the {@code secret-file} (surrounding white space ignored, at least {@link #MIN_BYTES} bytes);
     * without one (TLS only), a value derived from the cluster CA certificate, which is public: see docs/cluster.md.
     */
    public static ClusterSecret read(ClusterConfig config) {
        if (config.secretFile() == null) {
            LOG.warn("cluster: no secret-file; membership is keyed to the cluster CA certificate, which is not secret:"
                    + " any process that can reach the membership port and has the CA certificate can join (docs/cluster.md)");
            return new ClusterSecret(sha256(readAll(config.tlsCa(), "tls: ca")));
        }
        Path file = config.secretFile();
        byte[] raw = readAll(file, "secret-file");
        String text = new String(raw, StandardCharsets.UTF_8).strip();
        byte[] s = text.getBytes(StandardCharsets.UTF_8);
        Arrays.fill(raw, (byte) 0);
        if (s.length < MIN_BYTES) {
            throw new IllegalArgumentException("cluster: secret-file " + file + " holds " + s.length
                    + " bytes; at least " + MIN_BYTES + " are required (e.g. openssl rand -hex 32)");
        }
        warnIfReadableByOthers(file);
        return new ClusterSecret(s);
    }

    /** A secret given directly (for tests and tools). */
    public static ClusterSecret of(byte[] secret) {
        return new ClusterSecret(secret.clone());
    }

    /** The secret's bytes (a copy): the node link proves membership with them. */
    public byte[] bytes() {
        return secret.clone();
    }

    /** The Hazelcast cluster name: {@code starling-} and 32 hex digits of the HMAC of the secret. */
    public String clusterName() {
        return "starling-" + HexFormat.of().formatHex(hmac(NAME_LABEL), 0, 16);
    }

    /** HMAC-SHA256 of {@code data} keyed by the secret. */
    public byte[] hmac(byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    private static byte[] readAll(Path file, String key) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cluster: " + key + " " + file + " cannot be read: " + e.getMessage(), e);
        }
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    private static void warnIfReadableByOthers(Path file) {
        try {
            Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
            if (p.contains(PosixFilePermission.OTHERS_READ) || p.contains(PosixFilePermission.GROUP_READ)) {
                LOG.warn("cluster: secret-file {} is readable by other users (chmod 600 it)", file);
            }
        } catch (IOException | UnsupportedOperationException e) {
            // not a POSIX file system: nothing to check
        }
    }
}
