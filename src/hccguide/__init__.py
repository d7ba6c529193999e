def hello() -> str:
    return "Hello from hccguide!"
