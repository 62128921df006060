from nowserving.cli import main

raise SystemExit(main())
