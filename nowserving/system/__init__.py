"""What this machine provides: paths, safely written files, message catalogs, process health."""
