object 7ac0500081d6da89f2cf74d36c52296c9ef52697
type commit
tag v3
tagger alice <alice@example.org> 1795371096 +0000

unsigned
