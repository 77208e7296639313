package io.starling.broker.auth;

/**
 * The server side of one authentication exchange.
 *
 * <p>Thread-safety: not thread-safe; used by one connection on its event loop. An exchange is single-use: once
 * it returned a final step (anything but {@link AuthStep.Outcome#CONTINUE}), further steps fail.
 */
public interface AuthExchange {

    /**
     * Feeds the client's Authentication Data (from the CONNECT or AUTH 0x19 first, then from each AUTH 0x18
     * Continue authentication; {@code null} if the packet carried none) and returns what to answer.
     * Never throws: anything unexpected becomes a {@link AuthStep.Outcome#FAILURE} step.
     */
    AuthStep step(byte[] clientData);
}
