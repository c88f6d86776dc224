// Imported first by the entry point: silences the AWS SDK's Node-20 notice before any client exists.
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";
