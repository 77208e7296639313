package io.starling.broker.acl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

class AclRulesTest {

    @TempDir
    Path tmp;

    private TopicAccess access(List<String> lines, String user, String clientId, String... certNames) throws Exception {
        Path f = tmp.resolve("acl-" + System.nanoTime());
        Files.write(f, lines);
        return new Acl(f).accessFor(new ClientIdentity(user, clientId, List.of(certNames)));
    }

    @Test
    void parsesEveryFormAndIgnoresCommentsAndBlankLines() {
        AclRules r = AclRules.parse(List.of(
                "# rules",
                "",
                "allow all read public/#",
                "DENY user:bob  write   public/announcements",
                "allow anonymous subscribe open/+",
                "allow client:sensor-1 publish sensors/%c/data",
                "allow cert:gw.example readwrite gateways/%u/with space",
                "allow user:alice readwrite home/%u/#"));
        assertThat(r.rules()).hasSize(6);
        assertThat(r.rules().get(1)).isEqualTo(new AclRule(false, AclRule.Subject.USER, "bob", AclRule.WRITE,
                "public/announcements", 4));
        assertThat(r.rules().get(2).rights()).isEqualTo(AclRule.READ);
        assertThat(r.rules().get(3).rights()).isEqualTo(AclRule.WRITE);
        assertThat(r.rules().get(4).pattern()).isEqualTo("gateways/%u/with space");
        assertThat(r.rules().get(5).rights()).isEqualTo(AclRule.READ | AclRule.WRITE);
        assertThat(r.rules().get(5).toString()).isEqualTo("allow user:alice readwrite home/%u/# (line 8)");
    }

    @Test
    void badLinesAreErrorsWithTheirNumber() {
        assertThatThrownBy(() -> AclRules.parse(List.of("allow all read"))).hasMessageContaining("line 1");
        assertThatThrownBy(() -> AclRules.parse(List.of("# x", "permit all read a"))).hasMessageContaining("line 2")
                .hasMessageContaining("neither allow nor deny");
        assertThatThrownBy(() -> AclRules.parse(List.of("allow everyone read a"))).hasMessageContaining("unknown subject");
        assertThatThrownBy(() -> AclRules.parse(List.of("allow user: read a"))).hasMessageContaining("needs a name");
        assertThatThrownBy(() -> AclRules.parse(List.of("allow all:x read a"))).hasMessageContaining("takes no name");
        assertThatThrownBy(() -> AclRules.parse(List.of("allow all delete a"))).hasMessageContaining("unknown access");
        assertThatThrownBy(() -> AclRules.parse(List.of("allow all read a/#/b"))).hasMessageContaining("not a valid");
        assertThatThrownBy(() -> AclRules.parse(List.of("allow all read a+"))).hasMessageContaining("not a valid");
        assertThatThrownBy(() -> AclRules.parse(List.of("allow all write $share/g/a"))).hasMessageContaining("$share");
        assertThatThrownBy(() -> AclRules.parse(List.of("allow all readwrite $share/g/a"))).hasMessageContaining("read");
        assertThatThrownBy(() -> AclRules.parse(List.of("allow all read $share/g"))).hasMessageContaining("GROUP");
        assertThatThrownBy(() -> AclRules.parse(List.of("allow all read $share//a"))).hasMessageContaining("GROUP");
        assertThatThrownBy(() -> AclRules.parse(List.of("allow all read $share/g+/a"))).hasMessageContaining("GROUP");
        assertThatThrownBy(() -> AclRules.parse(List.of("allow all read $share/#/a"))).hasMessageContaining("GROUP");
        assertThatThrownBy(() -> AclRules.parse(List.of("allow all read $share/g/a/#/b")))
                .hasMessageContaining("not a valid");
        assertThatThrownBy(() -> AclRules.parse(List.of("allow all read $share/g/$share/h/a")))
                .hasMessageContaining("not a valid");
        assertThatThrownBy(() -> AclRules.parse(List.of("allow anonymous read u/%u"))).hasMessageContaining("never");
    }

    @Test
    void firstMatchingRuleDecidesAndNoMatchDenies() throws Exception {
        TopicAccess bob = access(List.of(
                "deny user:bob write public/announcements",
                "allow all readwrite public/#",
                "deny all read public/secret/#",      // too late: the rule above already allowed it
                "allow user:bob read bob/#"), "bob", "c1");
        assertThat(bob.canPublish("public/announcements")).isFalse();
        assertThat(bob.canRead("public/announcements")).as("the deny is for write only").isTrue();
        assertThat(bob.canPublish("public/x")).isTrue();
        assertThat(bob.canRead("public/secret/x")).as("first match wins").isTrue();
        assertThat(bob.canRead("bob/x")).isTrue();
        assertThat(bob.canPublish("bob/x")).as("read only").isFalse();
        assertThat(bob.canRead("elsewhere")).as("no rule: denied").isFalse();
        assertThat(bob.canPublish("elsewhere")).isFalse();
        assertThat(bob.decidingRule("public/announcements", AclRule.WRITE).line()).isEqualTo(1);
        assertThat(bob.decidingRule("elsewhere", AclRule.READ)).isNull();
    }

    @Test
    void subjectsUserClientCertAnonymousAll() throws Exception {
        List<String> rules = List.of(
                "allow user:alice read u",
                "allow client:dev-1 read c",
                "allow cert:gw.example read k",
                "allow anonymous read a",
                "allow all read all");
        TopicAccess alice = access(rules, "alice", "x");
        assertThat(List.of(alice.canRead("u"), alice.canRead("c"), alice.canRead("k"), alice.canRead("a"),
                alice.canRead("all"))).containsExactly(true, false, false, false, true);
        TopicAccess dev = access(rules, null, "dev-1");
        assertThat(List.of(dev.canRead("u"), dev.canRead("c"), dev.canRead("k"), dev.canRead("a"), dev.canRead("all")))
                .containsExactly(false, true, false, true, true);
        TopicAccess gw = access(rules, "gw-user", "y", "gw-cn", "gw.example");
        assertThat(List.of(gw.canRead("u"), gw.canRead("c"), gw.canRead("k"), gw.canRead("a"), gw.canRead("all")))
                .containsExactly(false, false, true, false, true);
    }

    @Test
    void placeholdersAreReplacedAndUnsafeValuesNeverMatch() throws Exception {
        List<String> rules = List.of("allow all readwrite users/%u/#", "allow all readwrite clients/%c/+");
        TopicAccess alice = access(rules, "alice", "phone");
        assertThat(alice.canPublish("users/alice/x")).isTrue();
        assertThat(alice.canPublish("users/bob/x")).isFalse();
        assertThat(alice.canRead("clients/phone/x")).isTrue();
        assertThat(alice.canRead("clients/tablet/x")).isFalse();
        // a user called "#" or "+" or with a '/' must not widen the pattern
        TopicAccess hash = access(rules, "#", "a/b");
        assertThat(hash.canPublish("users/x/y")).isFalse();
        assertThat(hash.canRead("users/#/y")).isFalse();
        assertThat(hash.canRead("clients/a/b/x")).isFalse();
        TopicAccess plus = access(rules, "+", "+");
        assertThat(plus.canRead("users/bob/x")).isFalse();
        assertThat(plus.canRead("clients/bob/x")).isFalse();
        TopicAccess anonymous = access(rules, null, "c");
        assertThat(anonymous.canRead("users/null/x")).isFalse();
        assertThat(anonymous.canRead("clients/c/x")).isTrue();
    }

    @Test
    void sysIsReadOnlyForEveryone() throws Exception {
        TopicAccess a = access(List.of("allow all readwrite $SYS/#", "allow all readwrite $SYSTEM/#",
                "allow all readwrite #"), "root", "c");
        assertThat(a.canRead("$SYS/broker/uptime")).isTrue();
        assertThat(a.canPublish("$SYS/broker/uptime")).isFalse();
        assertThat(a.canPublish("$SYS")).isFalse();
        assertThat(a.canPublish("$SYSTEM/x")).as("only $SYS itself").isTrue();
        assertThat(Acl.isSystemTopic("$SYS/x")).isTrue();
        assertThat(Acl.isSystemTopic("$SYSx")).isFalse();
        assertThat(a.canRead("$other/x")).as("'#' does not reach $-topics [MQTT-4.7.2-1]").isFalse();
    }

    @Test
    void subscribeIsAllowedWhenSomeTopicMayBeReadable() throws Exception {
        TopicAccess a = access(List.of(
                "deny all read secret/#",
                "allow all read public/#",
                "allow all read mixed/+/open",
                "deny all read everything-denied/#",
                "allow all read everything-denied/x"), "u", "c");
        assertThat(a.canSubscribe("public/a")).isTrue();
        assertThat(a.canSubscribe("public/#")).isTrue();
        assertThat(a.canSubscribe("#")).as("some topics are readable; delivery filters the rest").isTrue();
        assertThat(a.canSubscribe("+/a")).isTrue();
        assertThat(a.canSubscribe("secret/#")).isFalse();
        assertThat(a.canSubscribe("secret/a/+")).isFalse();
        assertThat(a.canSubscribe("mixed/#")).isTrue();
        assertThat(a.canSubscribe("mixed/x/closed")).isFalse();
        assertThat(a.canSubscribe("everything-denied/#")).as("the deny covers it all").isFalse();
        assertThat(a.canSubscribe("other")).isFalse();
        assertThat(a.canSubscribe("$SYS/#")).isFalse();
    }

    @Test
    void reloadedRulesReplaceTheCachedDecisions() throws Exception {
        Path f = tmp.resolve("acl");
        Files.write(f, List.of("allow all read a"));
        Acl acl = new Acl(f);
        TopicAccess t = acl.accessFor(new ClientIdentity(null, "c", null));
        assertThat(t.canRead("a")).isTrue();
        assertThat(t.canRead("b")).isFalse();
        Path next = tmp.resolve("acl.new");
        Files.write(next, List.of("allow all read b"));
        Files.move(next, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThat(acl.reloadIfChanged()).isTrue();
        assertThat(t.canRead("a")).isFalse();
        assertThat(t.canRead("b")).isTrue();
        Files.writeString(f, "allow all read\n");
        assertThat(acl.reloadIfChanged()).as("broken").isFalse();
        assertThat(t.canRead("b")).as("old rules kept").isTrue();
    }

    @Test
    void anEmptyFileDeniesEverything() throws Exception {
        TopicAccess a = access(List.of("# nothing yet"), "u", "c");
        assertThat(a.canRead("a")).isFalse();
        assertThat(a.canPublish("a")).isFalse();
        assertThat(a.canSubscribe("#")).isFalse();
    }

    /** User names and client ids a client can choose to attack {@code %u}/{@code %c} rules with. */
    static List<String> hostileNames() {
        return Arrays.asList("%c", "%u", "%u%c", "%%c", "%", "%x", "50%", "+", "#", "a/b", "alice/x", "$SYS", "$share",
                "", null, "alice/+", "+/#");
    }

    // The victim is user "alice" with client id "alice": every rule below names her topics only through %u/%c. No
    // hostile user name or client id (nor a pair of them) may read, write or subscribe to any of her topics, nor to
    // $SYS through a placeholder at the start of a filter.
    @ParameterizedTest(name = "user {0}")
    @MethodSource("hostileNames")
    void hostileNamesNeverReachAnotherClientsTopics(String hostile) throws Exception {
        List<String> rules = List.of(
                "allow all readwrite home/%u/#",
                "allow all readwrite devices/%c/#",
                "allow all readwrite both/%u/%c/#",
                "allow all readwrite glued/u-%u-c-%c",
                "allow all read %u/#",
                "allow all read %c/inbox");
        List<String> victims = List.of("home/alice/x", "home/alice", "devices/alice/x", "both/alice/alice/x",
                "glued/u-alice-c-alice", "alice/x", "alice/inbox", "$SYS/broker/uptime", "$SYS/x/inbox");
        List<String> filters = List.of("home/alice/#", "home/alice/x", "devices/alice/+", "both/alice/+/#",
                "alice/#", "alice/inbox", "$SYS/#", "$share/g/home/alice/#");
        List<TopicAccess> clients = new ArrayList<>();
        for (String other : hostileNames()) {
            clients.add(access(rules, hostile, other == null ? "c" : other));  // a client id is never absent
            clients.add(access(rules, other, hostile == null ? "c" : hostile));
        }
        for (TopicAccess t : clients) {
            for (String topic : victims) {
                assertThat(t.canRead(topic)).as(t.identity() + " reads " + topic).isFalse();
                assertThat(t.mayReadFromAnyThread(topic)).as(t.identity() + " reads " + topic).isFalse();
                assertThat(t.canPublish(topic)).as(t.identity() + " writes " + topic).isFalse();
            }
            for (String filter : filters) {
                String f = filter.startsWith("$share/") ? filter.substring("$share/g/".length()) : filter;
                assertThat(t.canSubscribe(f)).as(t.identity() + " subscribes " + filter).isFalse();
            }
        }
        assertThat(access(rules, "alice", "alice").canRead("home/alice/x")).as("the victim herself").isTrue();
    }

    // A placeholder's value is put in as it is and never scanned again: a user called "%c" owns home/%c/..., the
    // two characters; not home/<client id>/... (the double expansion of "allow all readwrite home/%u/#").
    @Test
    void placeholdersAreReplacedInOnePass() throws Exception {
        TopicAccess mallory = access(List.of("allow all readwrite home/%u/#", "allow all readwrite c/%c/#"), "%c",
                "alice");
        assertThat(mallory.canRead("home/alice/x")).isFalse();
        assertThat(mallory.canPublish("home/alice/x")).isFalse();
        assertThat(mallory.canSubscribe("home/alice/#")).isFalse();
        assertThat(mallory.canRead("home/%c/x")).as("his own, literally").isTrue();
        assertThat(mallory.canRead("c/alice/x")).as("his client id, by %c").isTrue();
        TopicAccess other = access(List.of("allow all readwrite x/%c%u/#"), "%u", "%c");
        assertThat(other.canRead("x/%c%u/y")).isTrue();
        assertThat(other.canRead("x/%u%c/y")).isFalse();
        TopicAccess percent = access(List.of("allow all readwrite p/%x/%u%/%%u"), "bob", "c");
        assertThat(percent.canRead("p/%x/bob%/%bob")).as("'%' before anything else stays").isTrue();
    }

    // A value with '$' at the start of a filter would make it one about $-topics: the rule does not apply. Inside a
    // filter, '$' is an ordinary character.
    @Test
    void aDollarValueAtTheStartOfAFilterDoesNotApply() throws Exception {
        TopicAccess sys = access(List.of("allow all read %u/#", "allow all read home/%u/#"), "$SYS", "c");
        assertThat(sys.canRead("$SYS/broker/uptime")).isFalse();
        assertThat(sys.canSubscribe("$SYS/#")).isFalse();
        assertThat(sys.canRead("home/$SYS/x")).isTrue();
        TopicAccess share = access(List.of("allow all read %c/#"), "u", "$share");
        assertThat(share.canRead("$share/x")).isFalse();
    }

    @Test
    void responseInformationTakesOnlySafeClientIds() {
        assertThat(Placeholders.expandClientId("responses/%c", "phone")).isEqualTo("responses/phone");
        assertThat(Placeholders.expandClientId("responses/%c", "%u")).isEqualTo("responses/%u");
        assertThat(Placeholders.expandClientId("r/%u/%c", "%c")).as("only %c, once").isEqualTo("r/%u/%c");
        assertThat(Placeholders.expandClientId("fixed", "a/b")).isEqualTo("fixed");
        for (String bad : List.of("a/b", "+", "#", "", "x/#")) {
            assertThat(Placeholders.expandClientId("responses/%c", bad)).as(bad).isNull();
        }
        assertThat(Placeholders.expandClientId("%c/responses", "$SYS")).isNull();
        assertThat(Placeholders.expandClientId("r/%c", "$x")).isEqualTo("r/$x");
    }

    // $share/ rules: while the file has none, any group may be joined (files written before keep their meaning);
    // once it has one, a group needs a rule that allows it, first match deciding (an allow covers the filter, a deny
    // overlaps it).
    @Test
    void shareRulesDecideWhoJoinsWhichGroup() throws Exception {
        TopicAccess open = access(List.of("allow all read jobs/#"), "bob", "b");
        assertThat(open.canJoin("w", "jobs/#")).as("no $share/ rule: any group").isTrue();
        List<String> rules = List.of(
                "deny  user:mallory read $share/+/#",
                "allow user:worker  read $share/w/jobs/#",
                "allow all          read $share/%u/jobs/%u/#",
                "allow all          read $share/pool/public/+",
                "allow all          read jobs/#",
                "allow all          read public/#");
        TopicAccess worker = access(rules, "worker", "w1");
        assertThat(worker.canJoin("w", "jobs/#")).isTrue();
        assertThat(worker.canJoin("w", "jobs/+/task")).as("within jobs/#").isTrue();
        assertThat(worker.canJoin("w", "#")).as("wider than the rule").isFalse();
        assertThat(worker.canJoin("v", "jobs/#")).as("another group").isFalse();
        assertThat(worker.canSubscribe("jobs/#")).as("topic rules ignore $share/ rules").isTrue();
        TopicAccess bob = access(rules, "bob", "b1");
        assertThat(bob.canJoin("w", "jobs/#")).isFalse();
        assertThat(bob.canJoin("w", "jobs/bob/#")).isFalse();
        assertThat(bob.canJoin("bob", "jobs/bob/#")).as("%u in the group and the filter").isTrue();
        assertThat(bob.canJoin("bob", "jobs/alice/#")).isFalse();
        assertThat(bob.canJoin("pool", "public/x")).isTrue();
        assertThat(bob.canJoin("pool", "public/#")).isFalse();
        assertThat(bob.canRead("jobs/x")).as("$share/ rules are not topic rules").isTrue();
        TopicAccess mallory = access(rules, "mallory", "m1");
        assertThat(mallory.canJoin("pool", "public/x")).as("the deny comes first").isFalse();
        TopicAccess plus = access(rules, "+", "p1");
        assertThat(plus.canJoin("+", "jobs/+/#")).as("a user called '+' gets no group").isFalse();
        assertThat(plus.canJoin("x", "jobs/x/#")).isFalse();
    }

    // The check for another loop gives the same answers as the cached one and follows a reload.
    @Test
    void readCheckFromAnyThreadFollowsTheRules() throws Exception {
        Path f = tmp.resolve("acl-any");
        Files.write(f, List.of("allow all read a/%c/#", "deny all read b/#", "allow all read #"));
        Acl acl = new Acl(f);
        TopicAccess t = acl.accessFor(new ClientIdentity("u", "c1", null));
        for (String topic : List.of("a/c1/x", "a/c2/x", "b/x", "z", "$SYS/x")) {
            assertThat(t.mayReadFromAnyThread(topic)).as(topic).isEqualTo(t.canRead(topic));
        }
        assertThat(t.mayReadFromAnyThread("b/x")).isFalse();
        Path next = tmp.resolve("acl-any.new");
        Files.write(next, List.of("allow all read b/#"));
        Files.move(next, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThat(acl.reloadIfChanged()).isTrue();
        assertThat(t.mayReadFromAnyThread("b/x")).isTrue();
        assertThat(t.mayReadFromAnyThread("z")).isFalse();
    }

    @Test
    void attributePlaceholdersTakeTheValueAndNeverWidenARule() throws Exception {
        List<String> rules = List.of(
                "allow all readwrite tenants/%{tenant}/%u/#",
                "allow all read %{tenant}/status",
                "allow all read groups/%{missing}/#");
        Path f = tmp.resolve("acl-attr");
        Files.write(f, rules);
        Acl acl = new Acl(f);
        TopicAccess acme = acl.accessFor(new ClientIdentity("dev1", "c1", List.of(), java.util.Map.of("tenant", "acme")));
        assertThat(acme.canPublish("tenants/acme/dev1/t")).isTrue();
        assertThat(acme.canPublish("tenants/acme/dev2/t")).isFalse();
        assertThat(acme.canRead("acme/status")).isTrue();
        assertThat(acme.canRead("groups/x/y")).as("no such attribute: the rule does not apply").isFalse();
        for (String hostile : List.of("#", "+", "a/b", "", "$SYS")) {
            TopicAccess h = acl.accessFor(new ClientIdentity("dev1", "c1", List.of(),
                    java.util.Map.of("tenant", hostile)));
            assertThat(h.canPublish("tenants/acme/dev1/t")).as(hostile).isFalse();
            assertThat(h.canRead("$SYS/status")).as(hostile).isFalse();
        }
        // one pass: an attribute value "%u" is those two characters
        TopicAccess literal = acl.accessFor(new ClientIdentity("dev1", "c1", List.of(),
                java.util.Map.of("tenant", "%u")));
        assertThat(literal.canPublish("tenants/%u/dev1/t")).isTrue();
        assertThat(literal.canPublish("tenants/dev1/dev1/t")).isFalse();
        assertThatThrownBy(() -> AclRules.parse(List.of("allow all read a/%{bad name}/b")))
                .hasMessageContaining("%{");
        assertThatThrownBy(() -> AclRules.parse(List.of("allow all read a/%{unclosed")))
                .hasMessageContaining("%{");
        assertThatThrownBy(() -> AclRules.parse(List.of("allow anonymous read a/%{tenant}")))
                .hasMessageContaining("anonymous");
    }
}
