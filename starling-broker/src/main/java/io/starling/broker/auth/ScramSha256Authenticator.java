package io.starling.broker.auth;

import io.starling.codec.ReasonCode;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SCRAM-SHA-256 authentication method (RFC 5802, RFC 7677) without channel binding, as MQTT 5.0 enhanced
 * authentication:
 * <ol>
 *   <li>CONNECT Authentication Data: client-first-message {@code n,,n=user,r=cnonce} (gs2 header {@code n,,} or
 *       {@code y,,}; channel binding {@code p=}, an authzid {@code a=} and mandatory extensions {@code m=} are
 *       refused);</li>
 *   <li>AUTH 0x18 from the server: server-first-message {@code r=cnonce+snonce,s=salt,i=iterations};</li>
 *   <li>AUTH 0x18 from the client: client-final-message {@code c=biws,r=cnonce+snonce,p=proof};</li>
 *   <li>CONNACK 0x00 with server-final-message {@code v=ServerSignature}, or NOT_AUTHORIZED 0x87.</li>
 * </ol>
 *
 * <p>A user unknown to the store gets a full-looking exchange with a fake credential derived from a server secret
 * and the user name (the same salt every time for the same name), and fails only at the proof, so neither the
 * messages nor the work done tell whether the user exists. Every malformed message fails with NOT_AUTHORIZED and
 * is logged at debug; {@link AuthExchange#step} never throws. A step after the exchange ended fails with
 * PROTOCOL_ERROR. If the CONNECT carried a User Name it must equal the SCRAM user name.
 *
 * <p>The {@code y,,} gs2 header ("client supports channel binding, thinks the server does not") is accepted since
 * this server does not offer SCRAM-SHA-256-PLUS; its channel binding must then be {@code c=eSws}.
 *
 * <p>Re-authentication [MQTT 4.12.1] runs the same flow on a fresh {@link #start exchange}.
 *
 * <p>Thread-safety: thread-safe and shared; each exchange is confined to its connection. Cost per exchange: one
 * store lookup, 24 bytes from {@link SecureRandom}, four HMAC-SHA-256 and one SHA-256 on the client-final, plus
 * three HMACs for the fake credential (computed for every user, known or not, for even timing): tens of
 * microseconds, no key stretching (the iterations were paid when the credential was made).
 */
public final class ScramSha256Authenticator implements EnhancedAuthenticator {

    /** The Authentication Method name. */
    public static final String METHOD = "SCRAM-SHA-256";

    private static final Logger LOG = LoggerFactory.getLogger(ScramSha256Authenticator.class);

    private static final int SECRET_LENGTH = 32;
    private static final int SERVER_NONCE_BYTES = 24;
    private static final String GS2_NO_BINDING = "n,,";
    private static final String GS2_CLIENT_CAN_BIND = "y,,";

    private final ScramCredentialStore store;
    private final byte[] serverSecret;
    private final int unknownUserIterations;
    private final Supplier<String> serverNonces;
    private final SecureRandom random = new SecureRandom();

    /**
     * With a random server secret (fake credentials of unknown users change when the broker restarts) and
     * {@link InMemoryScramCredentialStore#DEFAULT_ITERATIONS} for unknown users.
     */
    public ScramSha256Authenticator(ScramCredentialStore store) {
        this(store, null, InMemoryScramCredentialStore.DEFAULT_ITERATIONS);
    }

    /**
     * @param store the users' credentials
     * @param serverSecret at least 16 bytes that make unknown users' fake salts stable across restarts (keep it
     *     as secret as the credentials); {@code null} for a random one
     * @param unknownUserIterations the iteration count shown for unknown users: the one the store's credentials
     *     use, so it does not give them away
     */
    public ScramSha256Authenticator(ScramCredentialStore store, byte[] serverSecret, int unknownUserIterations) {
        this(store, serverSecret, unknownUserIterations, null);
    }

    /** Test hook: {@code serverNonces} (printable ASCII without ',') replaces the random server nonces. */
    ScramSha256Authenticator(ScramCredentialStore store, byte[] serverSecret, int unknownUserIterations,
            Supplier<String> serverNonces) {
        this.store = Objects.requireNonNull(store, "store");
        if (serverSecret == null) {
            this.serverSecret = new byte[SECRET_LENGTH];
            random.nextBytes(this.serverSecret);
        } else if (serverSecret.length < 16) {
            throw new IllegalArgumentException("server secret shorter than 16 bytes");
        } else {
            this.serverSecret = serverSecret.clone();
        }
        if (unknownUserIterations < 1) {
            throw new IllegalArgumentException("iterations " + unknownUserIterations);
        }
        this.unknownUserIterations = unknownUserIterations;
        this.serverNonces = serverNonces != null ? serverNonces : this::randomNonce;
    }

    @Override
    public String method() {
        return METHOD;
    }

    @Override
    public AuthExchange start(String clientId, String username) {
        return new Exchange(clientId, username);
    }

    private String randomNonce() {
        byte[] bytes = new byte[SERVER_NONCE_BYTES];
        random.nextBytes(bytes);
        return Scram.base64(bytes);
    }

    /** The credential shown to an unknown user: deterministic per name, unusable since no password maps to it. */
    private ScramCredential fakeCredential(String username) {
        byte[] name = Scram.utf8(username);
        byte[] salt = Arrays.copyOf(Scram.hmac(serverSecret, label("salt", name)),
                InMemoryScramCredentialStore.SALT_LENGTH);
        return new ScramCredential(salt, unknownUserIterations, Scram.hmac(serverSecret, label("stored-key", name)),
                Scram.hmac(serverSecret, label("server-key", name)));
    }

    private static byte[] label(String label, byte[] name) {
        byte[] l = Scram.utf8(label);
        byte[] out = Arrays.copyOf(l, l.length + 1 + name.length);
        System.arraycopy(name, 0, out, l.length + 1, name.length);
        return out;
    }

    /** Thrown inside an exchange for a message to refuse; never leaves {@link Exchange#step}. */
    private static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        Refused(String reason) {
            super(reason, null, false, false);
        }
    }

    private enum State {
        CLIENT_FIRST, CLIENT_FINAL, DONE
    }

    private final class Exchange implements AuthExchange {

        private final String clientId;
        private final String connectUsername;
        private State state = State.CLIENT_FIRST;
        private String gs2Header;
        private String clientFirstBare;
        private String serverFirst;
        private String nonce;
        private String user;
        private ScramCredential credential;
        private boolean knownUser;

        Exchange(String clientId, String connectUsername) {
            this.clientId = clientId;
            this.connectUsername = connectUsername;
        }

        @Override
        public AuthStep step(byte[] clientData) {
            State current = state;
            state = State.DONE;
            try {
                switch (current) {
                    case CLIENT_FIRST:
                        AuthStep first = onClientFirst(message(clientData));
                        state = State.CLIENT_FINAL;
                        return first;
                    case CLIENT_FINAL:
                        return onClientFinal(message(clientData));
                    case DONE:
                        LOG.debug("{} for client {}: step after the exchange ended", METHOD, clientId);
                        return AuthStep.failure(ReasonCode.PROTOCOL_ERROR);
                    default:
                        throw new IllegalStateException("state " + current);
                }
            } catch (Refused e) {
                LOG.debug("{} for client {}: refused: {}", METHOD, clientId, e.getMessage());
                return AuthStep.failure(ReasonCode.NOT_AUTHORIZED);
            } catch (RuntimeException e) {
                LOG.debug("{} for client {}: failed", METHOD, clientId, e);
                return AuthStep.failure(ReasonCode.NOT_AUTHORIZED);
            }
        }

        private AuthStep onClientFirst(String message) throws Refused {
            // gs2-header = gs2-cbind-flag "," [ authzid ] ","
            int comma1 = message.indexOf(',');
            int comma2 = comma1 < 0 ? -1 : message.indexOf(',', comma1 + 1);
            if (comma2 < 0) {
                throw new Refused("no gs2 header");
            }
            String flag = message.substring(0, comma1);
            String authzid = message.substring(comma1 + 1, comma2);
            if (flag.startsWith("p=")) {
                throw new Refused("channel binding requested, not supported");
            }
            if (!flag.equals("n") && !flag.equals("y")) {
                throw new Refused("bad gs2 channel binding flag");
            }
            if (!authzid.isEmpty()) {
                throw new Refused(authzid.startsWith("a=") ? "authzid not supported" : "bad gs2 header");
            }
            gs2Header = message.substring(0, comma2 + 1);
            clientFirstBare = message.substring(comma2 + 1);

            String[] attrs = clientFirstBare.split(",", -1);
            if (attrs[0].startsWith("m=")) {
                throw new Refused("mandatory extension not supported");
            }
            if (attrs.length < 2) {
                throw new Refused("client-first-message too short");
            }
            String saslName = value(attrs[0], 'n');
            String decoded = Scram.decodeSaslName(saslName);
            if (decoded == null) {
                throw new Refused("bad '=' encoding in the user name");
            }
            String prepared = Scram.saslPrep(decoded);
            if (prepared == null || prepared.isEmpty()) {
                throw new Refused("user name empty or prohibited by SASLprep");
            }
            String clientNonce = value(attrs[1], 'r');
            if (!Scram.isValidNonce(clientNonce)) {
                throw new Refused("bad client nonce");
            }
            checkExtensions(attrs, 2);
            if (connectUsername != null && !prepared.equals(Scram.saslPrep(connectUsername))) {
                throw new Refused("CONNECT User Name differs from the SCRAM user name");
            }

            ScramCredential fake = fakeCredential(prepared);
            ScramCredential real = store.lookup(prepared);
            knownUser = real != null;
            credential = knownUser ? real : fake;
            user = prepared;

            String serverNonce = serverNonces.get();
            if (!Scram.isValidNonce(serverNonce)) {
                throw new IllegalStateException("bad server nonce");
            }
            nonce = clientNonce + serverNonce;
            serverFirst = "r=" + nonce + ",s=" + Scram.base64(credential.salt()) + ",i=" + credential.iterations();
            return AuthStep.continueWith(Scram.utf8(serverFirst));
        }

        private AuthStep onClientFinal(String message) throws Refused {
            // client-final-message = channel-binding "," nonce ["," extensions] "," proof
            int proofAt = message.lastIndexOf(",p=");
            if (proofAt < 0) {
                throw new Refused("no proof");
            }
            String withoutProof = message.substring(0, proofAt);
            byte[] proof = Scram.decodeBase64(message.substring(proofAt + 3));
            if (proof == null || proof.length != Scram.KEY_LENGTH) {
                throw new Refused("bad proof");
            }
            String[] attrs = withoutProof.split(",", -1);
            if (attrs.length < 2) {
                throw new Refused("client-final-message too short");
            }
            byte[] binding = Scram.decodeBase64(value(attrs[0], 'c'));
            if (binding == null || !Scram.constantTimeEquals(binding, Scram.utf8(gs2Header))) {
                throw new Refused("channel binding does not match the gs2 header");
            }
            if (!gs2Header.equals(GS2_NO_BINDING) && !gs2Header.equals(GS2_CLIENT_CAN_BIND)) {
                throw new IllegalStateException("gs2 header " + gs2Header);
            }
            if (!value(attrs[1], 'r').equals(nonce)) {
                throw new Refused("nonce does not match");
            }
            checkExtensions(attrs, 2);

            byte[] authMessage = Scram.utf8(clientFirstBare + "," + serverFirst + "," + withoutProof);
            byte[] storedKey = credential.storedKey();
            byte[] clientSignature = Scram.hmac(storedKey, authMessage);
            byte[] clientKey = new byte[Scram.KEY_LENGTH];
            for (int i = 0; i < clientKey.length; i++) {
                clientKey[i] = (byte) (proof[i] ^ clientSignature[i]);
            }
            boolean proofMatches = Scram.constantTimeEquals(Scram.sha256(clientKey), storedKey);
            byte[] serverSignature = Scram.hmac(credential.serverKey(), authMessage);
            if (!(proofMatches & knownUser)) {
                throw new Refused(knownUser ? "wrong proof" : "unknown user");
            }
            return AuthStep.success(Scram.utf8("v=" + Scram.base64(serverSignature)), user);
        }

        private String message(byte[] data) throws Refused {
            if (data == null || data.length == 0) {
                throw new Refused("no Authentication Data");
            }
            String message = Scram.decodeUtf8(data);
            if (message == null) {
                throw new Refused("Authentication Data is not UTF-8");
            }
            return message;
        }

        /** The value of {@code attr} which must be {@code name=value}. */
        private String value(String attr, char name) throws Refused {
            if (attr.length() < 2 || attr.charAt(0) != name || attr.charAt(1) != '=') {
                throw new Refused("expected attribute " + name);
            }
            return attr.substring(2);
        }

        /** Extensions ({@code x=value}, x a letter) from {@code from} on are allowed and ignored. */
        private void checkExtensions(String[] attrs, int from) throws Refused {
            for (int i = from; i < attrs.length; i++) {
                String attr = attrs[i];
                if (attr.length() < 2 || !isAsciiLetter(attr.charAt(0)) || attr.charAt(1) != '=') {
                    throw new Refused("bad extension attribute");
                }
            }
        }

        private boolean isAsciiLetter(char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        }
    }
}
