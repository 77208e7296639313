package io.starling.it.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.starling.broker.config.AuthenticationConfig;
import io.starling.broker.config.AuthenticationConfig.JwtBackend;
import io.starling.broker.config.AuthenticationConfig.UsernameCheck;
import io.starling.broker.config.ListenerConfig;
import io.starling.it.security.SecClient.Kind;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The {@code jwt} authentication backend end to end: one broker with a listener per key (HS256 secret file, RS256
 * and ES256 PEM public keys, a JWKS URL served by an in-test HTTP server), tokens made here with nimbus-jose-jwt,
 * clients Paho v3 (3.1.1), Paho v5, HiveMQ v5, raw CONNECTs and mosquitto_pub. Attacks: expired and not yet valid
 * tokens, a wrong signature, {@code alg: none}, an HS256 token "signed" with the RSA public key (algorithm
 * confusion), a key of another kind, a wrong issuer or audience, a User Name not matching the claim, and hostile claim
 * values in ACL rules ({@code %{tenant}} set to {@code #}, {@code +}, {@code a/b}, {@code $SYS}).
 */
class JwtAuthTest {

    private static final String ISSUER = "https://issuer.example";
    @TempDir
    static Path dir;
    private static byte[] secret;
    private static RSAKey rsa;
    private static ECKey ec;
    private static RSAKey jwks1;
    private static RSAKey jwks2;
    private static HttpServer jwksServer;
    private static final AtomicReference<String> JWKS = new AtomicReference<>();
    private static final AtomicInteger JWKS_REQUESTS = new AtomicInteger();
    private static StarlingServer broker;
    private static final AtomicInteger IDS = new AtomicInteger();

    /** Listener indexes. */
    private static final int HS = 0;
    private static final int RS = 1;
    private static final int ES = 2;
    private static final int JWKS_LISTENER = 3;
    private static final int MATCH = 4;
    private static final int EXPIRY = 5;
    private static final int GARBAGE_JWKS = 6;

    @BeforeAll
    static void start() throws Exception {
        secret = new byte[32];
        new java.security.SecureRandom().nextBytes(secret);
        Path secretFile = Files.write(dir.resolve("hs.secret"), secret);
        rsa = new RSAKeyGenerator(2048).keyID("rsa").generate();
        ec = new ECKeyGenerator(Curve.P_256).keyID("ec").generate();
        Path rsaPem = pem(dir.resolve("rsa.pem"), rsa.toRSAPublicKey().getEncoded());
        Path ecPem = pem(dir.resolve("ec.pem"), ec.toECPublicKey().getEncoded());
        jwks1 = new RSAKeyGenerator(2048).keyID("k1").generate();
        jwks2 = new RSAKeyGenerator(2048).keyID("k2").generate();
        JWKS.set(new JWKSet(jwks1.toPublicJWK()).toString());
        jwksServer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        jwksServer.createContext("/jwks", ex -> {
            JWKS_REQUESTS.incrementAndGet();
            byte[] body = JWKS.get().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        jwksServer.createContext("/garbage", ex -> {
            byte[] body = "{\"keys\": 42}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        jwksServer.start();
        URI jwksUrl = URI.create("http://127.0.0.1:" + jwksServer.getAddress().getPort() + "/jwks");
        Path acl = Sec.write(dir.resolve("acl"),
                "allow user:observer read #",
                "allow all readwrite tenants/%{tenant}/%u/#",
                "allow all read tenants/%{tenant}/broadcast",
                "allow all read %{tenant}/status/#",
                "allow all readwrite public/#");
        AuthenticationConfig auth = new AuthenticationConfig(List.of(
                jwt("hs", secretFile, null, null, UsernameCheck.IGNORE, false),
                jwt("rs", null, rsaPem, null, UsernameCheck.IGNORE, false),
                jwt("es", null, ecPem, null, UsernameCheck.IGNORE, false),
                jwt("jwks", null, null, jwksUrl, UsernameCheck.IGNORE, false),
                jwt("match", secretFile, null, null, UsernameCheck.MATCH, false),
                jwt("expiry", secretFile, null, null, UsernameCheck.IGNORE, true),
                jwt("garbage", null, null, URI.create("http://127.0.0.1:" + jwksServer.getAddress().getPort()
                        + "/garbage"), UsernameCheck.IGNORE, false)));
        broker = Sec.start(dir, b -> b.authentication(auth).aclFile(acl)
                .security(b.security().withAuthFailureLimit(0, Duration.ofSeconds(60), Duration.ofSeconds(60)))
                .listeners(List.of(
                listener("hs"), listener("rs"), listener("es"), listener("jwks"), listener("match"),
                listener("expiry"), listener("garbage"))));
    }

    private static JwtBackend jwt(String name, Path secretFile, Path pem, URI jwks, UsernameCheck check,
            boolean expiry) {
        return new JwtBackend(name, secretFile, pem, jwks, Duration.ofMinutes(5), Duration.ofSeconds(2),
                Duration.ZERO, ISSUER, List.of("starling"), "sub", check, List.of("tenant"), expiry);
    }

    private static ListenerConfig listener(String backend) {
        return ListenerConfig.builder(ListenerConfig.Type.TCP).bind("127.0.0.1").port(0)
                .authentication(List.of(backend)).build();
    }

    private static Path pem(Path file, byte[] der) throws Exception {
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return Files.writeString(file, "-----BEGIN PUBLIC KEY-----\n" + b64 + "\n-----END PUBLIC KEY-----\n");
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
        if (jwksServer != null) {
            jwksServer.stop(0);
        }
    }

    // ---------------------------------------------------------------- tokens

    private static JWTClaimsSet.Builder claims(String sub, String tenant) {
        long now = System.currentTimeMillis();
        return new JWTClaimsSet.Builder().subject(sub).issuer(ISSUER).audience("starling")
                .expirationTime(new Date(now + 3_600_000)).notBeforeTime(new Date(now - 60_000))
                .claim("tenant", tenant);
    }

    private static String sign(JWSSigner signer, JWSAlgorithm alg, String kid, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).type(JOSEObjectType.JWT).build(), claims);
        jwt.sign(signer);
        return jwt.serialize();
    }

    private static String hs(JWTClaimsSet claims) throws Exception {
        return sign(new MACSigner(secret), JWSAlgorithm.HS256, null, claims);
    }

    private static String rs(JWTClaimsSet claims) throws Exception {
        return sign(new RSASSASigner(rsa), JWSAlgorithm.RS256, "rsa", claims);
    }

    private static String es(JWTClaimsSet claims) throws Exception {
        return sign(new ECDSASigner(ec), JWSAlgorithm.ES256, "ec", claims);
    }

    private static String id() {
        return "jwt-" + IDS.incrementAndGet();
    }

    private static int code(int listener, int level, String user, String token) {
        return Sec.connackCode(broker.port(listener), level, id(), user, token);
    }

    // ---------------------------------------------------------------- tests

    @ParameterizedTest
    @EnumSource(Kind.class)
    void validTokensOfEachKeyConnectAndTheClaimIsTheUserOfTheAcl(Kind kind) throws Exception {
        String[] tokens = {hs(claims("dev1", "acme").build()), rs(claims("dev1", "acme").build()),
                es(claims("dev1", "acme").build())};
        for (int listener = HS; listener <= ES; listener++) {
            try (SecClient dev = SecClient.connect(kind, broker.port(listener), id(), "dev1", tokens[listener])) {
                // %u is the sub claim, %{tenant} the tenant claim: tenants/acme/dev1/# is the device's own
                assertThat(dev.subscribe("tenants/acme/dev1/#")).isLessThan(0x80);
                assertThat(dev.subscribe("tenants/acme/dev2/#")).isGreaterThanOrEqualTo(0x80);
                dev.publish("tenants/acme/dev1/t", "v" + listener);
                assertThat(dev.until("tenants/acme/dev1/t")).isEmpty();
            }
        }
    }

    @Test
    void refusedTokensGetBadUserNameOrPassword() throws Exception {
        long now = System.currentTimeMillis();
        JWTClaimsSet expired = claims("dev1", "acme").expirationTime(new Date(now - 1000)).build();
        JWTClaimsSet notYet = claims("dev1", "acme").notBeforeTime(new Date(now + 600_000)).build();
        JWTClaimsSet noExp = claims("dev1", "acme").expirationTime(null).build();
        JWTClaimsSet wrongIssuer = claims("dev1", "acme").issuer("https://evil.example").build();
        JWTClaimsSet wrongAudience = claims("dev1", "acme").audience("other").build();
        JWTClaimsSet noSub = claims(null, "acme").build();
        byte[] otherSecret = new byte[32];
        JWTClaimsSet ok = claims("dev1", "acme").build();
        String validHs = hs(ok);
        String tampered = validHs.substring(0, validHs.lastIndexOf('.') + 1)
                + hs(claims("dev2", "acme").build()).substring(validHs.lastIndexOf('.') + 1);
        String unsecured = new com.nimbusds.jwt.PlainJWT(ok).serialize() + "c2ln"; // alg none (with a "signature")
        String algNoneHeader = base64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + base64(ok.toString()) + ".";
        // algorithm confusion: HS256 with the RSA public key (the PEM's bytes, which the attacker knows) as the secret
        String confused = sign(new MACSigner(Files.readAllBytes(dir.resolve("rsa.pem"))), JWSAlgorithm.HS256, "rsa",
                ok);
        for (int level : new int[] {4, 5}) {
            int bad = Sec.badCredentials(level);
            assertThat(code(HS, level, "dev1", validHs)).as("valid").isZero();
            assertThat(code(HS, level, "dev1", hs(expired))).as("expired").isEqualTo(bad);
            assertThat(code(HS, level, "dev1", hs(notYet))).as("not yet valid").isEqualTo(bad);
            assertThat(code(HS, level, "dev1", hs(noExp))).as("no exp").isEqualTo(bad);
            assertThat(code(HS, level, "dev1", hs(wrongIssuer))).as("issuer").isEqualTo(bad);
            assertThat(code(HS, level, "dev1", hs(wrongAudience))).as("audience").isEqualTo(bad);
            assertThat(code(HS, level, "dev1", hs(noSub))).as("no sub").isEqualTo(bad);
            assertThat(code(HS, level, "dev1", sign(new MACSigner(otherSecret), JWSAlgorithm.HS256, null, ok)))
                    .as("other secret").isEqualTo(bad);
            assertThat(code(HS, level, "dev1", tampered)).as("signature of other claims").isEqualTo(bad);
            assertThat(code(HS, level, "dev1", algNoneHeader)).as("alg none").isEqualTo(bad);
            assertThat(code(HS, level, "dev1", unsecured)).as("alg none with a signature").isEqualTo(bad);
            assertThat(code(RS, level, "dev1", confused)).as("HS256 with the RSA public key").isEqualTo(bad);
            assertThat(code(RS, level, "dev1", es(ok))).as("ES256 token on the RS256 key").isEqualTo(bad);
            assertThat(code(ES, level, "dev1", rs(ok))).as("RS256 token on the ES256 key").isEqualTo(bad);
            assertThat(code(HS, level, "dev1", rs(ok))).as("RS256 token on the HS256 secret").isEqualTo(bad);
            // a password that is no JWT: nobody answers, the listener has no anonymous access
            assertThat(code(HS, level, "dev1", "secret")).as("not a JWT").isEqualTo(bad);
        }
    }

    private static String base64(String s) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void userNameMustMatchTheClaimWhereConfigured() throws Exception {
        String token = hs(claims("dev1", "acme").build());
        for (int level : new int[] {4, 5}) {
            assertThat(code(MATCH, level, "dev1", token)).isZero();
            assertThat(code(MATCH, level, "dev2", token)).isEqualTo(Sec.badCredentials(level));
            if (level == 5) { // 3.1.1 has no Password without a User Name [MQTT-3.1.2-22]
                assertThat(code(MATCH, level, null, token)).isEqualTo(Sec.badCredentials(level));
            }
            assertThat(code(HS, level, "anything", token)).as("not checked without username: match").isZero();
        }
    }

    @Test
    void hostileClaimValuesNeverWidenWhatARuleAllows() throws Exception {
        try (SecClient observer = SecClient.connect(Kind.PAHO_V5, broker.port(HS), id(), "observer",
                hs(claims("observer", "none").build()))) {
            assertThat(observer.subscribe("#")).isLessThan(0x80);
            for (String tenant : List.of("#", "+", "acme/dev1", "$SYS", "")) {
                for (Kind kind : Kind.values()) {
                    try (SecClient attacker = SecClient.connect(kind, broker.port(HS), id(), "dev1",
                            hs(claims("dev1", tenant).build()))) {
                        // the rule tenants/%{tenant}/%u/# does not apply: nothing of acme's is the attacker's
                        assertThat(attacker.subscribe("tenants/acme/dev1/#")).as(tenant).isGreaterThanOrEqualTo(0x80);
                        if (!tenant.equals("$SYS")) { // tenants/$SYS/dev1/# is a topic of its own, rightly granted
                            assertThat(attacker.subscribe("tenants/+/dev1/#")).as(tenant)
                                    .isGreaterThanOrEqualTo(0x80);
                        }
                        // %{tenant}/status/# for tenant $SYS would be $SYS/status/#: the rule does not apply
                        assertThat(attacker.subscribe("$SYS/status/#")).as(tenant).isGreaterThanOrEqualTo(0x80);
                        attacker.publish("tenants/acme/dev1/x", "forged");
                        attacker.publish("public/marker", tenant);
                        // the observer sees the marker, and nothing forged before it
                        assertThat(observer.until("public/marker")).noneMatch(m -> m.topic().startsWith("tenants/"));
                    }
                }
            }
        }
    }

    @Test
    void jwksKeysAreFetchedAndRefreshedOnAnUnknownKidAtMostOncePerInterval() throws Exception {
        JWTClaimsSet ok = claims("dev1", "acme").build();
        String t1 = sign(new RSASSASigner(jwks1), JWSAlgorithm.RS256, "k1", ok);
        String t2 = sign(new RSASSASigner(jwks2), JWSAlgorithm.RS256, "k2", ok);
        assertThat(code(JWKS_LISTENER, 5, "dev1", t1)).isZero();
        // rotation: the set now has k2 only; a token with k2 makes the broker fetch again (once the interval allows)
        JWKS.set(new JWKSet(jwks2.toPublicJWK()).toString());
        await().atMost(Duration.ofSeconds(20)).until(() -> code(JWKS_LISTENER, 5, "dev1", t2) == 0);
        assertThat(code(JWKS_LISTENER, 4, "dev1", t1)).as("k1 is gone").isEqualTo(Sec.badCredentials(4));
        // a burst of unknown kids: at most one fetch per interval (2 s here)
        int before = JWKS_REQUESTS.get();
        long start = System.nanoTime();
        String t3 = sign(new RSASSASigner(new RSAKeyGenerator(2048).keyID("k3").generate()), JWSAlgorithm.RS256, "k3",
                ok);
        for (int i = 0; i < 20; i++) {
            assertThat(code(JWKS_LISTENER, 5, "dev1", t3)).isEqualTo(0x86);
        }
        long intervals = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start) / 2 + 1;
        assertThat(JWKS_REQUESTS.get() - before).isLessThanOrEqualTo((int) intervals).isLessThan(20);
    }

    @Test
    void aJwksThatIsNotOneMakesTheBrokerUnavailableForTokens() throws Exception {
        String token = sign(new RSASSASigner(jwks1), JWSAlgorithm.RS256, "k1", claims("dev1", "acme").build());
        assertThat(code(GARBAGE_JWKS, 5, "dev1", token)).isEqualTo(0x88);
        assertThat(code(GARBAGE_JWKS, 4, "dev1", token)).isEqualTo(0x03);
        // a password that is no JWT is still ignored (and then refused as bad credentials): no fetch needed
        assertThat(code(GARBAGE_JWKS, 5, "dev1", "plain")).isEqualTo(0x86);
    }

    @Test
    void aConnectionEndsWhenItsTokenExpiresWhereConfigured() throws Exception {
        // MQTT 5.0: DISCONNECT 0xA0 Maximum connect time (the time the token authorized is over)
        String token = hs(claims("dev1", "acme").expirationTime(new Date(System.currentTimeMillis() + 2_000)).build());
        try (RawClient c = RawClient.connect("127.0.0.1", broker.port(EXPIRY))) {
            assertThat(Sec.connack(c, 5, id(), "dev1", token)).isZero();
            byte[] p = c.readPacket(Duration.ofSeconds(15));
            assertThat(p).isNotNull();
            assertThat(p[0] & 0xFF).isEqualTo(0xE0);
            assertThat(p[2] & 0xFF).isEqualTo(0xA0);
        }
        // without disconnect-at-expiry the connection stays: the same token on the HS listener
        String longer = hs(claims("dev1", "acme").build());
        try (RawClient c = RawClient.connect("127.0.0.1", broker.port(HS))) {
            assertThat(Sec.connack(c, 4, id(), "dev1", longer)).isZero();
        }
    }

    @Test
    void mosquittoPubConnectsWithAToken() throws Exception {
        String token = hs(claims("dev1", "acme").build());
        assertThat(mosquittoPub(broker.port(HS), token, "mqttv311")).isZero();
        assertThat(mosquittoPub(broker.port(HS), token, "mqttv5")).isZero();
        assertThat(mosquittoPub(broker.port(HS), hs(claims("dev1", "acme")
                .expirationTime(new Date(System.currentTimeMillis() - 60_000)).build()), "mqttv5")).isNotZero();
    }

    private static int mosquittoPub(int port, String token, String version) throws Exception {
        Process p = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(port), "-i", id(),
                "-u", "dev1", "-P", token, "-t", "tenants/acme/dev1/m", "-m", "x", "-q", "1", "-V", version)
                .redirectErrorStream(true).start();
        p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }
}
