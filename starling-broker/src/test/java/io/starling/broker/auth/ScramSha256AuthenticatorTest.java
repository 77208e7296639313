package io.starling.broker.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.starling.broker.auth.AuthStep.Outcome;
import io.starling.codec.ReasonCode;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScramSha256AuthenticatorTest {

    // RFC 7677 section 3
    private static final String RFC_CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    private static final String RFC_SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    private static final String RFC_SALT = "W22ZaJ0SNY7soEsUEjb6gQ==";
    private static final String RFC_CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    private static final String RFC_SERVER_FIRST =
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    private static final String RFC_CLIENT_FINAL =
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    private static final String RFC_SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    private final InMemoryScramCredentialStore store =
            InMemoryScramCredentialStore.fromPasswords(Map.of("alice", "wonderland", "a,b=c", "odd name"));
    private final ScramSha256Authenticator sut = new ScramSha256Authenticator(store);

    private static byte[] bytes(String s) {
        return s.getBytes(UTF_8);
    }

    private static String text(AuthStep step) {
        return new String(step.data(), UTF_8);
    }

    private static void assertNotAuthorized(AuthStep step) {
        assertThat(step.outcome()).isEqualTo(Outcome.FAILURE);
        assertThat(step.reasonCode()).isEqualTo(ReasonCode.NOT_AUTHORIZED);
        assertThat(step.data()).isNull();
        assertThat(step.user()).isNull();
    }

    private static ScramSha256Authenticator rfcServer() {
        InMemoryScramCredentialStore rfcStore = new InMemoryScramCredentialStore();
        rfcStore.add("user", ScramCredential.fromPassword("pencil", Base64.getDecoder().decode(RFC_SALT), 4096));
        return new ScramSha256Authenticator(rfcStore, null, 4096, () -> RFC_SERVER_NONCE);
    }

    /** Runs the first step and returns the server-first-message, checking it is a CONTINUE. */
    private static String serverFirst(AuthExchange exchange, TestScramClient client) {
        AuthStep first = exchange.step(bytes(client.clientFirst()));
        assertThat(first.outcome()).isEqualTo(Outcome.CONTINUE);
        assertThat(first.reasonCode()).isEqualTo(ReasonCode.CONTINUE_AUTHENTICATION);
        return text(first);
    }

    @Test
    void rfc7677TestVector_givesTheExactServerMessages() {
        AuthExchange exchange = rfcServer().start("c1", null);

        AuthStep first = exchange.step(bytes(RFC_CLIENT_FIRST));
        assertThat(first.outcome()).isEqualTo(Outcome.CONTINUE);
        assertThat(text(first)).isEqualTo(RFC_SERVER_FIRST);

        AuthStep last = exchange.step(bytes(RFC_CLIENT_FINAL));
        assertThat(last.outcome()).isEqualTo(Outcome.SUCCESS);
        assertThat(last.reasonCode()).isEqualTo(ReasonCode.SUCCESS);
        assertThat(last.user()).isEqualTo("user");
        assertThat(text(last)).isEqualTo(RFC_SERVER_FINAL);
    }

    @Test
    void rfc7677TestVector_independentClientAgrees() {
        TestScramClient client = new TestScramClient("n,,", "user", "pencil", RFC_CLIENT_NONCE);
        assertThat(client.clientFirst()).isEqualTo(RFC_CLIENT_FIRST);
        assertThat(client.clientFinal(RFC_SERVER_FIRST)).isEqualTo(RFC_CLIENT_FINAL);
        assertThat(client.expectedServerFinal()).isEqualTo(RFC_SERVER_FINAL);
    }

    @Test
    void credentialFromPassword_matchesIndependentDerivation() {
        byte[] salt = Base64.getDecoder().decode(RFC_SALT);
        ScramCredential credential = ScramCredential.fromPassword("pencil", salt, 4096);
        byte[] salted = TestScramClient.hi(bytes("pencil"), salt, 4096);
        assertThat(credential.storedKey()).isEqualTo(TestScramClient.sha256(TestScramClient.hmac(salted, bytes("Client Key"))));
        assertThat(credential.serverKey()).isEqualTo(TestScramClient.hmac(salted, bytes("Server Key")));
        assertThat(credential.salt()).isEqualTo(salt);
        assertThat(credential.iterations()).isEqualTo(4096);
        assertThat(credential.toString()).doesNotContain(Base64.getEncoder().encodeToString(credential.storedKey()));
    }

    @Test
    void successfulExchange() {
        TestScramClient client = new TestScramClient("alice", "wonderland");
        AuthExchange exchange = sut.start("c1", null);
        String serverFirst = serverFirst(exchange, client);
        assertThat(serverFirst).matches("r=[^,]+,s=[A-Za-z0-9+/]{22}==,i=4096");
        assertThat(Base64.getDecoder().decode(TestScramClient.attr(serverFirst, "s"))).hasSize(16);
        String serverNonce = TestScramClient.attr(serverFirst, "r").substring(TestScramClient.attr(client.clientFirst(), "r")
                .length());
        assertThat(Base64.getDecoder().decode(serverNonce).length).isGreaterThanOrEqualTo(18);

        AuthStep last = exchange.step(bytes(client.clientFinal(serverFirst)));

        assertThat(last.outcome()).isEqualTo(Outcome.SUCCESS);
        assertThat(last.isFinal()).isTrue();
        assertThat(last.user()).isEqualTo("alice");
        assertThat(text(last)).isEqualTo(client.expectedServerFinal());
    }

    @Test
    void serverNoncesDifferBetweenExchanges() {
        String a = serverFirst(sut.start("c1", null), new TestScramClient("n,,", "alice", "x", "same"));
        String b = serverFirst(sut.start("c2", null), new TestScramClient("n,,", "alice", "x", "same"));
        assertThat(TestScramClient.attr(a, "r")).isNotEqualTo(TestScramClient.attr(b, "r"));
        assertThat(TestScramClient.attr(a, "s")).isEqualTo(TestScramClient.attr(b, "s"));
    }

    @Test
    void yFlagWithMatchingChannelBinding_succeeds() {
        TestScramClient client = new TestScramClient("y,,", "alice", "wonderland", TestScramClient.randomNonce());
        AuthExchange exchange = sut.start("c1", null);
        String clientFinal = client.clientFinal(serverFirst(exchange, client));
        assertThat(clientFinal).startsWith("c=eSws,");
        assertThat(exchange.step(bytes(clientFinal)).outcome()).isEqualTo(Outcome.SUCCESS);
    }

    @Test
    void escapedUserName_isDecoded() {
        TestScramClient client = new TestScramClient("a,b=c", "odd name");
        AuthExchange exchange = sut.start("c1", "a,b=c");
        assertThat(client.clientFirst()).contains("n=a=2Cb=3Dc,");
        AuthStep last = exchange.step(bytes(client.clientFinal(serverFirst(exchange, client))));
        assertThat(last.outcome()).isEqualTo(Outcome.SUCCESS);
        assertThat(last.user()).isEqualTo("a,b=c");
    }

    @Test
    void connectUserNameMustMatchScramUserName() {
        AuthExchange matching = sut.start("c1", "alice");
        TestScramClient client = new TestScramClient("alice", "wonderland");
        assertThat(matching.step(bytes(client.clientFinal(serverFirst(matching, client)))).outcome())
                .isEqualTo(Outcome.SUCCESS);

        assertNotAuthorized(sut.start("c2", "bob").step(bytes(new TestScramClient("alice", "wonderland").clientFirst())));
    }

    @Test
    void wrongPassword_notAuthorized() {
        TestScramClient client = new TestScramClient("alice", "looking-glass");
        AuthExchange exchange = sut.start("c1", null);
        assertNotAuthorized(exchange.step(bytes(client.clientFinal(serverFirst(exchange, client)))));
    }

    @Test
    void unknownUser_getsFullLookingExchangeThenNotAuthorized() {
        TestScramClient client = new TestScramClient("mallory", "guess");
        AuthExchange exchange = sut.start("c1", null);
        String serverFirst = serverFirst(exchange, client);
        assertThat(serverFirst).matches("r=[^,]+,s=[A-Za-z0-9+/]{22}==,i=4096");

        assertNotAuthorized(exchange.step(bytes(client.clientFinal(serverFirst))));
    }

    @Test
    void unknownUser_fakeSaltIsStablePerNameAndDiffersBetweenNames() {
        String first = serverFirst(sut.start("c1", null), new TestScramClient("mallory", "x"));
        String again = serverFirst(sut.start("c2", null), new TestScramClient("mallory", "y"));
        String other = serverFirst(sut.start("c3", null), new TestScramClient("trudy", "x"));
        assertThat(TestScramClient.attr(first, "s")).isEqualTo(TestScramClient.attr(again, "s"));
        assertThat(TestScramClient.attr(first, "s")).isNotEqualTo(TestScramClient.attr(other, "s"));
    }

    @Test
    void unknownUser_fakeSaltIsStableAcrossInstancesWithTheSameSecret() {
        byte[] secret = new byte[32];
        secret[0] = 7;
        String a = serverFirst(new ScramSha256Authenticator(store, secret, 10000).start("c1", null),
                new TestScramClient("mallory", "x"));
        String b = serverFirst(new ScramSha256Authenticator(store, secret, 10000).start("c1", null),
                new TestScramClient("mallory", "x"));
        assertThat(TestScramClient.attr(a, "s")).isEqualTo(TestScramClient.attr(b, "s"));
        assertThat(TestScramClient.attr(a, "i")).isEqualTo("10000");
    }

    @Test
    void tamperedNonce_notAuthorized() {
        TestScramClient client = new TestScramClient("alice", "wonderland");
        AuthExchange exchange = sut.start("c1", null);
        String serverFirst = serverFirst(exchange, client);
        String nonce = TestScramClient.attr(serverFirst, "r");
        // the client signs a server-first with another nonce: proof is consistent, nonce is not the server's
        String forged = serverFirst.replace(nonce, nonce + "X");
        assertNotAuthorized(exchange.step(bytes(client.clientFinal(forged))));
    }

    @Test
    void nonceReplacedInFinalMessage_notAuthorized() {
        TestScramClient client = new TestScramClient("alice", "wonderland");
        AuthExchange exchange = sut.start("c1", null);
        String serverFirst = serverFirst(exchange, client);
        String nonce = TestScramClient.attr(serverFirst, "r");
        String clientFinal = client.clientFinal(serverFirst).replace("r=" + nonce, "r=" + nonce.substring(0, nonce.length() - 1));
        assertNotAuthorized(exchange.step(bytes(clientFinal)));
    }

    @Test
    void tamperedProof_notAuthorized() {
        TestScramClient client = new TestScramClient("alice", "wonderland");
        AuthExchange exchange = sut.start("c1", null);
        String clientFinal = client.clientFinal(serverFirst(exchange, client));
        byte[] proof = Base64.getDecoder().decode(TestScramClient.attr(clientFinal, "p"));
        proof[5] ^= 1;
        String tampered = clientFinal.substring(0, clientFinal.indexOf(",p=") + 3) + Base64.getEncoder().encodeToString(proof);
        assertNotAuthorized(exchange.step(bytes(tampered)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"eSws", "cD10bHMtdW5pcXVlLCw=", "", "biws=", "b!ws"})
    void badChannelBinding_notAuthorized(String cbind) {
        TestScramClient client = new TestScramClient("alice", "wonderland");
        AuthExchange exchange = sut.start("c1", null);
        String clientFinal = client.clientFinal(serverFirst(exchange, client));
        assertNotAuthorized(exchange.step(bytes(clientFinal.replace("c=biws,", "c=" + cbind + ","))));
    }

    @Test
    void yFlagWithBiwsChannelBinding_notAuthorized() {
        TestScramClient client = new TestScramClient("y,,", "alice", "wonderland", TestScramClient.randomNonce());
        AuthExchange exchange = sut.start("c1", null);
        String clientFinal = client.clientFinal(serverFirst(exchange, client));
        assertNotAuthorized(exchange.step(bytes(clientFinal.replace("c=eSws,", "c=biws,"))));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "n",
        "n,",
        "n,,",
        "n,,n=alice",
        "n,,r=abc",
        "n,,r=abc,n=alice",
        "x,,n=alice,r=abc",
        "N,,n=alice,r=abc",
        "p=tls-unique,,n=alice,r=abc",
        "p=tls-server-end-point,,n=alice,r=abc",
        "n,a=admin,n=alice,r=abc",
        "y,a=admin,n=alice,r=abc",
        "n,junk,n=alice,r=abc",
        "n,,m=ext,n=alice,r=abc",
        "n,,n=,r=abc",
        "n,,n=al=ice,r=abc",
        "n,,n=al=2Xce,r=abc",
        "n,,n=alice=,r=abc",
        "n,,n=alice,r=",
        "n,,n=alice,r=a b",
        "n,,n=alice,r=abc,",
        "n,,n=alice,r=abc,junk",
        "n,,n=alice,r=abc,1=x",
        "n,,n=ali\u0001ce,r=abc",
        "n,, n=alice,r=abc",
    })
    void malformedClientFirst_notAuthorized(String message) {
        assertNotAuthorized(sut.start("c1", null).step(bytes(message)));
    }

    @Test
    void extensionsAreIgnored() {
        AuthExchange exchange = sut.start("c1", null);
        assertThat(exchange.step(bytes("n,,n=alice,r=abc,x=whatever")).outcome()).isEqualTo(Outcome.CONTINUE);
    }

    @Test
    void missingOrNonUtf8ClientFirst_notAuthorized() {
        assertNotAuthorized(sut.start("c1", null).step(null));
        assertNotAuthorized(sut.start("c1", null).step(new byte[0]));
        assertNotAuthorized(sut.start("c1", null).step(new byte[] {'n', ',', ',', 'n', '=', (byte) 0xC3, ',', 'r', '=', 'a'}));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "c=biws",
        "c=biws,r=NONCE",
        "r=NONCE,p=PROOF",
        "c=biws,p=PROOF",
        "r=NONCE,c=biws,p=PROOF",
        "c=biws,r=NONCE,p=",
        "c=biws,r=NONCE,p=not*base64!",
        "c=biws,r=NONCE,p=AAAA",
        "c=biws,r=NONCE,p=PROOF,x=trailing",
        "c=biws,r=NONCE,junk,p=PROOF",
        "c=biws,r=NONCE,p=PROOF=",
        "x=1,c=biws,r=NONCE,p=PROOF",
        "c=biws,,r=NONCE,p=PROOF",
    })
    void malformedClientFinal_notAuthorized(String template) {
        TestScramClient client = new TestScramClient("alice", "wonderland");
        AuthExchange exchange = sut.start("c1", null);
        String genuine = client.clientFinal(serverFirst(exchange, client));
        String message = template.replace("NONCE", TestScramClient.attr(genuine, "r"))
                .replace("PROOF", TestScramClient.attr(genuine, "p"));
        assertNotAuthorized(exchange.step(bytes(message)));
    }

    @Test
    void missingClientFinal_notAuthorized() {
        TestScramClient client = new TestScramClient("alice", "wonderland");
        AuthExchange exchange = sut.start("c1", null);
        serverFirst(exchange, client);
        assertNotAuthorized(exchange.step(null));
    }

    @Test
    void proofProvingAnotherExchange_notAuthorized() {
        // a client-final from one exchange replayed into another (different server nonce)
        TestScramClient client = new TestScramClient("n,,", "alice", "wonderland", "fixed");
        AuthExchange one = sut.start("c1", null);
        String finalOfOne = client.clientFinal(serverFirst(one, client));
        AuthExchange two = sut.start("c1", null);
        serverFirst(two, client);
        assertNotAuthorized(two.step(bytes(finalOfOne)));
    }

    @Test
    void stepAfterSuccess_fails() {
        TestScramClient client = new TestScramClient("alice", "wonderland");
        AuthExchange exchange = sut.start("c1", null);
        String clientFinal = client.clientFinal(serverFirst(exchange, client));
        assertThat(exchange.step(bytes(clientFinal)).outcome()).isEqualTo(Outcome.SUCCESS);

        AuthStep again = exchange.step(bytes(clientFinal));
        assertThat(again.outcome()).isEqualTo(Outcome.FAILURE);
        assertThat(again.reasonCode()).isEqualTo(ReasonCode.PROTOCOL_ERROR);
    }

    @Test
    void stepAfterFailure_fails() {
        AuthExchange exchange = sut.start("c1", null);
        assertNotAuthorized(exchange.step(bytes("garbage")));
        AuthStep again = exchange.step(bytes(new TestScramClient("alice", "wonderland").clientFirst()));
        assertThat(again.outcome()).isEqualTo(Outcome.FAILURE);
        assertThat(again.reasonCode()).isEqualTo(ReasonCode.PROTOCOL_ERROR);
    }

    @Test
    void failingStore_notAuthorizedWithoutThrowing() {
        ScramSha256Authenticator broken = new ScramSha256Authenticator(user -> {
            throw new IllegalStateException("store down");
        });
        assertNotAuthorized(broken.start("c1", null).step(bytes("n,,n=alice,r=abc")));
    }

    @Test
    void reauthentication_usesAFreshExchange() {
        for (int i = 0; i < 2; i++) {
            TestScramClient client = new TestScramClient("alice", "wonderland");
            AuthExchange exchange = sut.start("c1", "alice");
            assertThat(exchange.step(bytes(client.clientFinal(serverFirst(exchange, client)))).user()).isEqualTo("alice");
        }
    }

    @Test
    void exchangesRunConcurrentlyOnOneAuthenticator() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<AuthStep>> results = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                boolean good = i % 2 == 0;
                results.add(pool.submit(() -> {
                    TestScramClient client = new TestScramClient("alice", good ? "wonderland" : "nope");
                    AuthExchange exchange = sut.start("c", null);
                    return exchange.step(bytes(client.clientFinal(serverFirst(exchange, client))));
                }));
            }
            for (int i = 0; i < results.size(); i++) {
                assertThat(results.get(i).get().outcome()).isEqualTo(i % 2 == 0 ? Outcome.SUCCESS : Outcome.FAILURE);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void method_isScramSha256() {
        assertThat(sut.method()).isEqualTo("SCRAM-SHA-256");
    }
}
