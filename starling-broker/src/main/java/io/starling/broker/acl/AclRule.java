package io.starling.broker.acl;

import io.starling.broker.topic.Topics;
import java.util.Locale;

/**
 * One line of the ACL file: {@code allow|deny SUBJECT ACCESS TOPIC-FILTER} (see {@link AclRules} for the syntax).
 *
 * @param allow true for {@code allow}, false for {@code deny}
 * @param subject whom the rule is about
 * @param subjectValue the user name, client id or certificate name of {@code user:}, {@code client:},
 *     {@code cert:}; {@code null} for {@code all} and {@code anonymous}
 * @param rights {@link #READ}, {@link #WRITE} or both
 * @param pattern the topic filter, possibly with {@code %u} (user name) and {@code %c} (client id); or, for a rule
 *     about joining shared subscription groups, {@code $share/GROUP/FILTER} (GROUP a Share Name or {@code +} for any,
 *     also with {@code %u}/{@code %c})
 * @param line the line number in the file, for messages
 */
public record AclRule(boolean allow, Subject subject, String subjectValue, int rights, String pattern, int line) {

    /** Subscribe to and receive messages on a topic. */
    public static final int READ = 1;
    /** Publish to a topic. */
    public static final int WRITE = 2;

    /** Whom a rule applies to. */
    public enum Subject {
        /** Every client. */
        ALL,
        /** Clients without a user name. */
        ANONYMOUS,
        /** The client authenticated as this user. */
        USER,
        /** The client with this client identifier. */
        CLIENT,
        /** The client whose verified certificate has this CN or SAN. */
        CERT
    }

    /** Whether the rule is about this client. */
    boolean appliesTo(ClientIdentity id) {
        return switch (subject) {
            case ALL -> true;
            case ANONYMOUS -> id.username() == null;
            case USER -> subjectValue.equals(id.username());
            case CLIENT -> subjectValue.equals(id.clientId());
            case CERT -> id.certificateNames().contains(subjectValue);
        };
    }

    /** Whether the rule is about joining shared subscription groups ({@code $share/GROUP/FILTER}). */
    public boolean isShareRule() {
        return Topics.isShared(pattern);
    }

    /** The GROUP of a {@code $share/GROUP/FILTER} rule, {@code null} for a topic rule. */
    String shareGroup() {
        return isShareRule() ? pattern.substring(Topics.SHARE_PREFIX.length(), filterStart() - 1) : null;
    }

    /** The topic filter: the whole pattern of a topic rule, the FILTER of a {@code $share/GROUP/FILTER} rule. */
    String topicFilter() {
        return isShareRule() ? pattern.substring(filterStart()) : pattern;
    }

    private int filterStart() {
        return pattern.indexOf('/', Topics.SHARE_PREFIX.length()) + 1;
    }

    /** The rule as written in the file (normalised spacing). */
    @Override
    public String toString() {
        String who = subjectValue == null ? subject.name().toLowerCase(Locale.ROOT)
                : subject.name().toLowerCase(Locale.ROOT) + ":" + subjectValue;
        String access = rights == (READ | WRITE) ? "readwrite" : rights == READ ? "read" : "write";
        return (allow ? "allow " : "deny ") + who + " " + access + " " + pattern + " (line " + line + ")";
    }
}
