from palabre.cli import main

main()
