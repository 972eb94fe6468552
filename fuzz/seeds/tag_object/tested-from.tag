object 5047fdcada3363ae3ee78613a1628b6109afe603
type commit
tag v1.2
tagger T <t@x> 1795371096 +0000

v1.2 tested in staging

Build: https://ci.example.org/builds/42
Sigtag-Tested-From: 0123456789abcdef0123456789abcdef01234567
