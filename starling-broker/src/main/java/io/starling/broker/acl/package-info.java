/**
 * Authorization: the ACL file ({@link io.starling.broker.acl.AclRules}, syntax and precedence there and in
 * docs/security.md), reloaded on change ({@link io.starling.broker.acl.Acl}), and each client's view of it with a
 * cache of decisions ({@link io.starling.broker.acl.TopicAccess}).
 *
 * <p>Where the checks happen: PUBLISH (write) in the protocol handler before routing, SUBSCRIBE in the subscribe
 * handler per filter, and every delivery (read) in {@code Session} just before it is sent, so that a wildcard
 * subscription or a retained message never shows a client a topic it may not read. Without an ACL file none of this
 * runs; only publishing to {@code $SYS} is refused then.
 */
package io.starling.broker.acl;
