object 9a630f09d8c42466664d8e3e6d2d4220f1f2b5fc
type tag
tag v1o
tagger alice <alice@example.org> 1795371096 +0000

layer 2
-----BEGIN PGP SIGNATURE-----

iIgEABYIADAWIQR2n+HJrEfTnlH4ZYavzZ1v5wIaWQUCawMwWBIcYWxpY2VAZXhh
bXBsZS5vcmcACgkQr82db+cCGlkRcQD8C/Bxa5dztQ7XoPi3IstZx/NXDFteNpYD
zSoe2EJjBLsBAI4WInovxOLjkN/5lZ60t8VTzpQyGDqVTKEQXTp3fNoK
=3CHW
-----END PGP SIGNATURE-----
