package io.starling.server.transport;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.starling.broker.config.ListenerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link SslContext} of one {@code tls}/{@code wss} listener, rebuilt when its certificate, key or CA file
 * changes. {@link #current()} is what a NEW connection uses; connections keep the context they were accepted
 * with. {@link #reloadIfChanged()} is called every few seconds by the server: it compares the files'
 * modification times and sizes, rebuilds, checks that the key belongs to the certificate and swaps; a broken
 * set of files is logged and the old context stays. Thread-safe.
 */
public final class ReloadingSslContext {

    private static final Logger LOG = LoggerFactory.getLogger(ReloadingSslContext.class);

    /** TLS versions enabled when the listener does not name any. */
    public static final List<String> DEFAULT_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /**
     * Cipher suites offered when the listener does not name any: the TLS 1.3 suites, and for TLS 1.2 only ephemeral
     * ECDH key exchange (forward secrecy) with AEAD ciphers: no static RSA key exchange, no CBC, no SHA-1 MAC. Those
     * the provider does not support are left out.
     */
    public static final List<String> DEFAULT_CIPHERS = List.of(
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private static final Pattern PKCS8 = Pattern.compile(
            "-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

    private final ListenerConfig listener;
    private volatile SslContext context;
    /** Stamp of the files the last build attempt (good or bad) was made from. */
    private List<Object> stamp;

    /**
     * Builds the first context.
     *
     * @throws IllegalArgumentException when the files are missing or unusable, naming the listener
     */
    public ReloadingSslContext(ListenerConfig listener) {
        this.listener = listener;
        this.stamp = stamp();
        try {
            this.context = build(listener);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException(listener.describe() + ": cannot set up TLS: " + e.getMessage(), e);
        }
        LOG.info("{}: TLS with {} ({}), protocols {}, {} cipher suites, client certificates {}", listener.describe(),
                provider(), provider() == SslProvider.OPENSSL ? OpenSsl.versionString() : "JDK provider",
                protocols(listener), listener.ciphers().isEmpty() ? "ECDHE-AEAD" : "configured",
                listener.clientAuth().name().toLowerCase(java.util.Locale.ROOT));
    }

    /** The context for new connections. */
    public SslContext current() {
        return context;
    }

    /** OpenSSL (BoringSSL from netty-tcnative) when it loads on this machine, the JDK's provider otherwise. */
    public static SslProvider provider() {
        return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    /**
     * Rebuilds the context if any of the files changed since the last attempt.
     *
     * @return whether a new context is now in use
     */
    public synchronized boolean reloadIfChanged() {
        List<Object> now = stamp();
        if (now.equals(stamp)) {
            return false;
        }
        stamp = now;
        try {
            context = build(listener);
            LOG.info("{}: certificate files changed, TLS context reloaded (new connections use it)", listener.describe());
            return true;
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            LOG.warn("{}: certificate files changed but cannot be used, keeping the previous ones: {}",
                    listener.describe(), e.toString());
            return false;
        }
    }

    private List<Object> stamp() {
        List<Object> s = new ArrayList<>();
        for (Path p : new Path[] {listener.cert(), listener.key(), listener.ca()}) {
            if (p == null) {
                s.add("-");
                continue;
            }
            try {
                s.add(Files.getLastModifiedTime(p).toMillis());
                s.add(Files.size(p));
            } catch (NoSuchFileException e) {
                s.add("missing");
            } catch (IOException e) {
                s.add(e.toString());
            }
        }
        return s;
    }

    private static List<String> protocols(ListenerConfig l) {
        return l.protocols().isEmpty() ? DEFAULT_PROTOCOLS : l.protocols();
    }

    static SslContext build(ListenerConfig l) throws IOException, GeneralSecurityException {
        return build(l, provider());
    }

    /**
     * The context of a listener with a given provider: the server uses {@link #provider()}; tests check what each
     * provider offers.
     */
    public static SslContext build(ListenerConfig l, SslProvider provider) throws IOException, GeneralSecurityException {
        byte[] certPem = Files.readAllBytes(l.cert());
        byte[] keyPem = Files.readAllBytes(l.key());
        checkKeyMatchesCertificate(certPem, keyPem);
        SslContextBuilder b;
        try (InputStream cert = Files.newInputStream(l.cert()); InputStream key = Files.newInputStream(l.key())) {
            b = SslContextBuilder.forServer(cert, key);
        }
        if (l.ca() != null) {
            try (InputStream ca = Files.newInputStream(l.ca())) {
                b.trustManager(ca);
            }
        }
        b.sslProvider(provider)
                .protocols(protocols(l))
                .clientAuth(switch (l.clientAuth()) {
                    case NONE -> ClientAuth.NONE;
                    case OPTIONAL -> ClientAuth.OPTIONAL;
                    case REQUIRE -> ClientAuth.REQUIRE;
                });
        if (l.ciphers().isEmpty()) {
            b.ciphers(DEFAULT_CIPHERS, SupportedCipherSuiteFilter.INSTANCE);
        } else {
            b.ciphers(l.ciphers());
        }
        try {
            return b.build();
        } catch (SSLException e) {
            throw new GeneralSecurityException(e.getMessage(), e);
        }
    }

    /**
     * Fails unless the (first) certificate's public key verifies a signature made with the private key, so that
     * a certificate replaced without its key (or half-written files) is not put into service. A key in another
     * format than PKCS#8 is left to the TLS provider.
     */
    static void checkKeyMatchesCertificate(byte[] certPem, byte[] keyPem) throws GeneralSecurityException {
        X509Certificate cert;
        try (InputStream in = new java.io.ByteArrayInputStream(certPem)) {
            cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        } catch (IOException e) {
            throw new GeneralSecurityException(e);
        }
        if (cert == null) {
            throw new GeneralSecurityException("no certificate in the cert file");
        }
        Matcher m = PKCS8.matcher(new String(keyPem, StandardCharsets.US_ASCII));
        if (!m.find()) {
            return;
        }
        PublicKey pub = cert.getPublicKey();
        String alg = pub.getAlgorithm();
        PrivateKey key = KeyFactory.getInstance(alg).generatePrivate(
                new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(m.group(1).trim())));
        String sigAlg = switch (alg) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "Ed448", "EdDSA" -> "EdDSA";
            default -> null;
        };
        if (sigAlg == null) {
            return;
        }
        byte[] probe = "starling".getBytes(StandardCharsets.US_ASCII);
        Signature s = Signature.getInstance(sigAlg);
        s.initSign(key);
        s.update(probe);
        byte[] sig = s.sign();
        s.initVerify(pub);
        s.update(probe);
        if (!s.verify(sig)) {
            throw new GeneralSecurityException("the key does not belong to the certificate");
        }
    }
}
