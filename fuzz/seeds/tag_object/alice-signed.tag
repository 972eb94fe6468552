object 7ac0500081d6da89f2cf74d36c52296c9ef52697
type commit
tag v1
tagger alice <alice@example.org> 1795371096 +0000

release 1
-----BEGIN PGP SIGNATURE-----

iIgEABYIADAWIQR2n+HJrEfTnlH4ZYavzZ1v5wIaWQUCawMwWBIcYWxpY2VAZXhh
bXBsZS5vcmcACgkQr82db+cCGlmdGQEAro5EFzuGUjtCmHdz+xPHK/RynMeHxT0U
W5fZ1jNpbgwBAPgetZ4t+H0+G6n/p1xxBm9nV8QYmDF+x9SpDIlYEbcN
=KJjA
-----END PGP SIGNATURE-----
