/**
 * Authentication. Two SPIs:
 * <ul>
 *   <li>{@link io.starling.broker.auth.Authenticator}: User Name, Password and client certificate of a CONNECT →
 *       allow as an identity, bad credentials or not authorized; the built-in implementation is the password file
 *       ({@link io.starling.broker.auth.PasswordFileAuthenticator}, {@link io.starling.broker.auth.PasswordFile},
 *       {@link io.starling.broker.auth.PasswordHash}). Each listener's choice is a
 *       {@link io.starling.broker.auth.ListenerSecurity}; failed logins are limited per address by
 *       {@link io.starling.broker.auth.AuthFailureLimiter}. See docs/security.md.</li>
 *   <li>MQTT 5.0 enhanced authentication (section 4.12, AUTH packet 3.15), described below, with the built-in
 *       SCRAM-SHA-256.</li>
 * </ul>
 *
 * <p>Pure engine code: no I/O, no Netty. The connection handler drives it:
 * <ol>
 *   <li>CONNECT with an Authentication Method: {@link io.starling.broker.auth.EnhancedAuthRegistry#find} the
 *       authenticator; none → CONNACK 0x8C Bad authentication method. Otherwise
 *       {@link io.starling.broker.auth.EnhancedAuthenticator#start} an exchange and feed it the CONNECT's
 *       Authentication Data ({@code null} if absent).</li>
 *   <li>Answer the returned {@link io.starling.broker.auth.AuthStep}: CONTINUE → AUTH 0x18 with the same
 *       Authentication Method and the step's data, then feed the data of the client's next AUTH 0x18;
 *       SUCCESS → CONNACK 0x00 (with the step's data, if any, as Authentication Data); FAILURE → CONNACK with the
 *       step's reason code, then close; REDIRECT → CONNACK 0x9C/0x9D with the Server Reference, then close.</li>
 *   <li>Re-authentication [MQTT 4.12.1]: on AUTH 0x19 (same method as the CONNECT, else DISCONNECT 0x82), start a
 *       <em>fresh</em> exchange from the same authenticator and feed it the AUTH's data; SUCCESS → AUTH 0x00,
 *       FAILURE/REDIRECT → DISCONNECT with the step's reason code. The connection keeps working meanwhile.</li>
 * </ol>
 *
 * <p>Exchanges are confined to their connection's event loop; authenticators and the registry are shared by all
 * loops. No call here blocks or does key stretching per exchange (see each class for its cost).
 */
package io.starling.broker.auth;
