package io.starling.broker.auth;

import io.starling.codec.ReasonCode;
import java.util.Arrays;
import java.util.Objects;

/**
 * What to answer one step of an {@link AuthExchange}.
 *
 * <ul>
 *   <li>{@link Outcome#CONTINUE}: send AUTH 0x18 Continue authentication with {@link #data()} as Authentication
 *       Data; the exchange expects the client's next AUTH 0x18.</li>
 *   <li>{@link Outcome#SUCCESS}: CONNACK 0x00 (AUTH 0x00 on re-authentication), with {@link #data()} as
 *       Authentication Data if not {@code null}; {@link #user()} is the authenticated user name.</li>
 *   <li>{@link Outcome#FAILURE}: CONNACK (DISCONNECT on re-authentication) with {@link #reasonCode()}, an error
 *       code such as NOT_AUTHORIZED 0x87 or BAD_AUTHENTICATION_METHOD 0x8C, then close.</li>
 *   <li>{@link Outcome#REDIRECT}: CONNACK (or DISCONNECT) with USE_ANOTHER_SERVER 0x9C or SERVER_MOVED 0x9D and
 *       {@link #serverReference()} as Server Reference, then close.</li>
 * </ul>
 *
 * <p>{@link #reasonCode()} is always the code to put on the wire: CONTINUE_AUTHENTICATION for CONTINUE, SUCCESS
 * for SUCCESS. Immutable and thread-safe: the data array is copied in and out (steps are few and small).
 *
 * @param outcome what kind of answer
 * @param reasonCode the reason code to send
 * @param data Authentication Data to send, {@code null} for none; only CONTINUE and SUCCESS carry data
 * @param user the authenticated user name, only (and always) on SUCCESS
 * @param serverReference the Server Reference, only (and always) on REDIRECT
 */
public record AuthStep(Outcome outcome, ReasonCode reasonCode, byte[] data, String user, String serverReference) {

    /** The kind of answer. */
    public enum Outcome {
        CONTINUE, SUCCESS, FAILURE, REDIRECT
    }

    /** Validates that the components are consistent with the outcome. */
    public AuthStep {
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(reasonCode, "reasonCode");
        switch (outcome) {
            case CONTINUE:
                require(reasonCode == ReasonCode.CONTINUE_AUTHENTICATION && user == null && serverReference == null,
                        "CONTINUE carries data only");
                break;
            case SUCCESS:
                require(reasonCode == ReasonCode.SUCCESS && user != null && serverReference == null,
                        "SUCCESS carries optional data and a user");
                break;
            case FAILURE:
                require(reasonCode.isError() && data == null && user == null && serverReference == null,
                        "FAILURE carries an error reason code only");
                break;
            case REDIRECT:
                require((reasonCode == ReasonCode.USE_ANOTHER_SERVER || reasonCode == ReasonCode.SERVER_MOVED)
                        && serverReference != null && !serverReference.isEmpty() && data == null && user == null,
                        "REDIRECT carries 0x9C or 0x9D and a server reference only");
                break;
            default:
                throw new IllegalArgumentException("outcome " + outcome);
        }
        data = data == null ? null : data.clone();
    }

    /** Answer AUTH 0x18 Continue authentication with this Authentication Data ({@code null} for none). */
    public static AuthStep continueWith(byte[] data) {
        return new AuthStep(Outcome.CONTINUE, ReasonCode.CONTINUE_AUTHENTICATION, data, null, null);
    }

    /** Authenticated as {@code user}; {@code finalData} ({@code null} for none) goes into the CONNACK / AUTH 0x00. */
    public static AuthStep success(byte[] finalData, String user) {
        return new AuthStep(Outcome.SUCCESS, ReasonCode.SUCCESS, finalData, Objects.requireNonNull(user, "user"), null);
    }

    /** Refused with an error reason code (0x80 or above). */
    public static AuthStep failure(ReasonCode reasonCode) {
        return new AuthStep(Outcome.FAILURE, reasonCode, null, null, null);
    }

    /** Sent elsewhere: USE_ANOTHER_SERVER 0x9C or SERVER_MOVED 0x9D with a Server Reference. */
    public static AuthStep redirect(ReasonCode reasonCode, String serverReference) {
        return new AuthStep(Outcome.REDIRECT, reasonCode, null, null, Objects.requireNonNull(serverReference,
                "serverReference"));
    }

    /** A copy of the Authentication Data to send, {@code null} for none. */
    @Override
    public byte[] data() {
        return data == null ? null : data.clone();
    }

    /** True for every outcome but CONTINUE: the exchange is over. */
    public boolean isFinal() {
        return outcome != Outcome.CONTINUE;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AuthStep other && outcome == other.outcome && reasonCode == other.reasonCode
                && Arrays.equals(data, other.data) && Objects.equals(user, other.user)
                && Objects.equals(serverReference, other.serverReference);
    }

    @Override
    public int hashCode() {
        return Objects.hash(outcome, reasonCode, Arrays.hashCode(data), user, serverReference);
    }

    /** Shows the data's length only, never its content. */
    @Override
    public String toString() {
        return "AuthStep[" + outcome + ", " + reasonCode + (data == null ? "" : ", " + data.length + " bytes of data")
                + (user == null ? "" : ", user=" + user) + (serverReference == null ? "" : ", serverReference="
                + serverReference) + "]";
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
