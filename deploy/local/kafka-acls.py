"""kafka-acls.py: the local stack's Kafka ACLs, described once, applied as the administrator.

  kafka-acls.py ADMIN_JSON bootstrap          the role ACLs on the real topics, the health
                                              topic, the consumer groups and the cluster
  kafka-acls.py ADMIN_JSON grant-prefix PREFIX  the same role ACLs on PREFIX's five topics
                                              (PREFIX + "jiceng.visits", ...), LITERAL: what a
                                              test with scratch topics needs
  kafka-acls.py ADMIN_JSON revoke-prefix PREFIX every ACL on PREFIX's five topics, removed
  kafka-acls.py ADMIN_JSON list               every ACL, one per line

ADMIN_JSON is the administrator's confluent-kafka configuration ($JICENG_STATE/clients/
admin.json, written by deploy/local/stack up). deploy/local/stack runs this with the stack's
venv (confluent-kafka); see "Kafka principals and ACLs" at the top of deploy/local/stack.

How it works. ROLES below is the one description of who may do what: for each principal, a list
of (resource, operations). A resource is "events" (the four event topics), "dead-letter",
"health" (the health check's topic), ("group", NAME) for consumer groups whose id starts with
NAME, or "cluster". The topic resources are what grant-prefix repeats on a prefix; the health
topic, the groups and the cluster only exist once. Every binding is ALLOW from any host.
Creating a binding that exists is not an error in Kafka, so bootstrap and grant-prefix are
idempotent; all bindings go in one CreateAcls request (some 0.2 s in all, where Kafka's
AclCommand costs 2.4 s of JVM per principal). The administrator (User:admin) and the broker are
super users: they need no ACL.
"""
import json
import re
import sys

from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation, AclPermissionType,
                                   AdminClient, ResourcePatternType, ResourceType)

EVENT_TOPICS = ["jiceng.visits", "jiceng.petitions", "jiceng.disaster-responses", "jiceng.trainings"]
DEAD_LETTER_TOPIC = "jiceng.dead-letter"
HEALTH_TOPIC = "jiceng.health"

R, W, D, C, IW = (AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE,
                  AclOperation.CREATE, AclOperation.IDEMPOTENT_WRITE)

# principal -> [(resource, operations)]
COUNTY = [("events", [W, D]), ("cluster", [IW])]
ROLES = {
    # consumes the event topics in groups jiceng-aggregate*, sends rejects to the dead-letter topic
    "aggregator": [("events", [R, D]), ("dead-letter", [W, D]), (("group", "jiceng-aggregate"), [R])],
    # re-drives records to the event topics (not yet written)
    "steward": [("events", [W, D])],
    # the health check: creates, writes and reads back its own topic
    "health": [("health", [C, R, W, D]), (("group", "jiceng-health"), [R])],
    # plays every county system in the demo and the tests (absent in production, where each
    # county system has its own principal, county-NNNNNN, with these same ACLs)
    "loadgen": COUNTY,
}

TOPICS = {"events": EVENT_TOPICS, "dead-letter": [DEAD_LETTER_TOPIC], "health": [HEALTH_TOPIC]}
PREFIXABLE = ("events", "dead-letter")


def fail(msg):
    print(f"kafka-acls: error: {msg}", file=sys.stderr)
    sys.exit(1)


def binding(restype, name, pattern, principal, op):
    return AclBinding(restype, name, pattern, f"User:{principal}", "*", op, AclPermissionType.ALLOW)


def bindings(prefix=None):
    """Every binding of ROLES; with prefix, only the prefixable topics', on prefixed names."""
    out = []
    for principal, grants in ROLES.items():
        for resource, ops in grants:
            for op in ops:
                if prefix is not None:
                    if resource in PREFIXABLE:
                        out += [binding(ResourceType.TOPIC, prefix + t, ResourcePatternType.LITERAL,
                                        principal, op) for t in TOPICS[resource]]
                elif resource in TOPICS:
                    out += [binding(ResourceType.TOPIC, t, ResourcePatternType.LITERAL, principal, op)
                            for t in TOPICS[resource]]
                elif resource == "cluster":
                    out.append(binding(ResourceType.BROKER, "kafka-cluster",
                                       ResourcePatternType.LITERAL, principal, op))
                else:
                    out.append(binding(ResourceType.GROUP, resource[1], ResourcePatternType.PREFIXED,
                                       principal, op))
    return out


def admin(config_path):
    with open(config_path) as f:
        conf = json.load(f)
    conf.setdefault("log_level", 3)
    return AdminClient(conf)


def create(a, wanted):
    for b, fut in a.create_acls(wanted, request_timeout=30).items():
        try:
            fut.result()
        except Exception as e:  # noqa: BLE001 (a KafkaException carries the broker's reason)
            fail(f"creating {b}: {e}")
    return len(wanted)


def check_prefix(prefix):
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,200}", prefix):
        fail(f"bad PREFIX '{prefix}' (1 to 200 of A-Z a-z 0-9 . _ -)")
    return prefix


def revoke_prefix(a, prefix):
    filters = [AclBindingFilter(ResourceType.TOPIC, prefix + t, ResourcePatternType.LITERAL, None, None,
                                AclOperation.ANY, AclPermissionType.ANY)
               for r in PREFIXABLE for t in TOPICS[r]]
    n = 0
    for f, fut in a.delete_acls(filters, request_timeout=30).items():
        try:
            n += len(fut.result())
        except Exception as e:  # noqa: BLE001
            fail(f"deleting ACLs on {f.name}: {e}")
    return n


def list_acls(a):
    # (librdkafka drops DescribeAcls' top-level error: an empty answer is only trusted because
    # the caller is the administrator)
    any_filter = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None,
                                  AclOperation.ANY, AclPermissionType.ANY)
    rows = sorted((b.principal, b.restype.name, b.resource_pattern_type.name, b.name, b.operation.name)
                  for b in a.describe_acls(any_filter, request_timeout=30).result())
    for r in rows:
        print("\t".join(r))


def main(argv):
    if len(argv) < 3:
        fail("usage: kafka-acls.py ADMIN_JSON bootstrap|grant-prefix PREFIX|revoke-prefix PREFIX|list")
    a = admin(argv[1])
    cmd, args = argv[2], argv[3:]
    if cmd == "bootstrap" and not args:
        print(f"kafka-acls: {create(a, bindings())} role ACLs in place", file=sys.stderr)
    elif cmd == "grant-prefix" and len(args) == 1:
        n = create(a, bindings(check_prefix(args[0])))
        print(f"kafka-acls: {n} ACLs in place on {args[0]}*", file=sys.stderr)
    elif cmd == "revoke-prefix" and len(args) == 1:
        print(f"kafka-acls: {revoke_prefix(a, check_prefix(args[0]))} ACLs removed from {args[0]}*",
              file=sys.stderr)
    elif cmd == "list" and not args:
        list_acls(a)
    else:
        fail(f"unknown command or arguments: {' '.join(argv[2:])}")


if __name__ == "__main__":
    main(sys.argv)
