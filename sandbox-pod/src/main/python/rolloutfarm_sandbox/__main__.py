from rolloutfarm_sandbox.zygote import main

if __name__ == "__main__":
    main()
